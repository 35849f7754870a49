// SVG histograms with optional overlaid curves (weight and activation distributions).
import { extent, linearScale, pathData, svg } from "./svg.js";

/** Bars for `counts` over `edges`; `curves` are {cls, xs?, values} drawn over the same x range,
 * each on the histogram's y scale unless it has its own `yDomain`. */
export function histogram(edges, counts, curves, width, height, cls) {
  const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  const x = linearScale([edges[0], edges[edges.length - 1]], [2, width - 2]);
  const [, top] = extent(counts, ...curves.filter((c) => !c.yDomain).map((c) => c.values));
  const y = linearScale([0, top || 1], [height - 2, 4]);
  counts.forEach((c, i) => {
    const rect = svg("rect", { class: cls, x: x(edges[i]), width: Math.max(x(edges[i + 1]) - x(edges[i]) - 0.5, 0.5), y: y(c), height: y(0) - y(c) });
    rect.appendChild(svg("title", {}, `${edges[i].toPrecision(3)} … ${edges[i + 1].toPrecision(3)}: ${c}`));
    plot.appendChild(rect);
  });
  const centres = Array.from(counts, (_, i) => (edges[i] + edges[i + 1]) / 2);
  for (const curve of curves) {
    const cy = curve.yDomain ? linearScale(curve.yDomain, [height - 4, 6]) : y;
    plot.appendChild(svg("path", { class: curve.cls, d: pathData(curve.xs ?? centres, curve.values, x, cy) }));
  }
  return plot;
}
