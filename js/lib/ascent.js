// UnitVisualizer's pieces: the ratio of the optimised picture's activation to the mean over real
// pictures in words, the activation chart's domain and its SVG drawing, and the picture's scale.
import { niceTicks, tickLabel } from "./axes.js";
import { linearScale, pathData, svg } from "./svg.js";

/** A ratio, short: 47×, 3.2×, 0.53×. */
export function formatRatio(r) {
  if (!Number.isFinite(r)) return "—";
  const a = Math.abs(r);
  if (a >= 100) return `${Math.round(r).toLocaleString("en-US")}×`;
  if (a >= 10) return `${Math.round(r)}×`;
  return `${Number(r.toPrecision(2))}×`;
}

/** The ratio of `final` to `mean` over `rows` real pictures in words; when the mean is not positive a
 * ratio says nothing, so both values are given instead. */
export function ratioText(final, mean, rows) {
  const over = `${rows.toLocaleString("en-US")} real image${rows === 1 ? "" : "s"}`;
  if (!Number.isFinite(final) || !Number.isFinite(mean)) return "";
  if (mean > 0) return `${formatRatio(final / mean)} the mean over ${over}`;
  return `${tickLabel(final)} against a mean of ${tickLabel(mean)} over ${over} (no ratio: that mean is not positive)`;
}

/** The y domain for the activation per step with the reference line: both inside, 5 % padding. */
export function curveDomain(values, reference) {
  let lo = Number.isFinite(reference) ? reference : Infinity;
  let hi = Number.isFinite(reference) ? reference : -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.1, hi + (Math.abs(hi) || 1) * 0.1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** The largest whole magnification of an h × w picture that fits `size` px (at least 1). */
export function pictureScale(h, w, size = 192) {
  return Math.max(1, Math.floor(size / Math.max(h, w, 1)));
}

export const MARGIN = { left: 44, right: 10, top: 8, bottom: 28 };

/** Draw the activation per step (1..n) and the dashed mean over real pictures into `plot` (an <svg>). */
export function drawAscent(plot, values, mean, width, height) {
  plot.replaceChildren();
  plot.setAttribute("viewBox", `0 0 ${width} ${height}`);
  plot.setAttribute("width", width);
  plot.setAttribute("height", height);
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const bottom = height - MARGIN.bottom;
  const top = MARGIN.top;
  plot.appendChild(svg("rect", { class: "nnw-uv-frame", x: left, y: top, width: right - left, height: bottom - top }));
  const n = values.length;
  if (!n) return;
  const x = linearScale(n > 1 ? [1, n] : [0, 2], [left, right]);
  const domain = curveDomain(values, mean);
  const y = linearScale(domain, [bottom, top]);
  const axis = svg("g", { class: "nnw-uv-axis" });
  for (const t of niceTicks(1, n, 5).filter((t) => Number.isInteger(t) && t >= 1)) {
    axis.appendChild(svg("line", { x1: x(t), x2: x(t), y1: bottom, y2: bottom + 4 }));
    axis.appendChild(svg("text", { x: x(t), y: bottom + 14, "text-anchor": "middle" }, tickLabel(t)));
  }
  for (const t of niceTicks(domain[0], domain[1], 4)) {
    const py = y(t);
    if (py < top - 0.5 || py > bottom + 0.5) continue;
    axis.appendChild(svg("line", { class: "nnw-uv-grid", x1: left, x2: right, y1: py, y2: py }));
    axis.appendChild(svg("text", { x: left - 4, y: py + 3, "text-anchor": "end" }, tickLabel(t)));
  }
  axis.appendChild(svg("text", { x: (left + right) / 2, y: height - 2, "text-anchor": "middle" }, "step"));
  axis.appendChild(svg("text", { x: 10, y: (top + bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 10 ${(top + bottom) / 2})` }, "activation"));
  plot.appendChild(axis);
  if (Number.isFinite(mean)) {
    plot.appendChild(svg("line", { class: "nnw-uv-mean", x1: left, x2: right, y1: y(mean), y2: y(mean) }));
    plot.appendChild(svg("text", { class: "nnw-uv-mean-label", x: right - 4, y: y(mean) - 4, "text-anchor": "end" }, "mean over real images"));
  }
  const steps = Array.from({ length: n }, (_, i) => i + 1);
  plot.appendChild(svg("path", { class: "nnw-uv-line", d: pathData(steps, values, x, y) }));
}

/** A layer's entry in the layer list: "output (10 classes)", "features.3 (Conv2d, 16 channels)". */
export function layerLabel({ name, type, units, kind }) {
  if (kind === "class" || name === "") return `output (${units} class${units === 1 ? "" : "es"})`;
  const noun = kind === "channel" ? "channel" : "unit";
  return `${name} (${type}, ${units} ${noun}${units === 1 ? "" : "s"})`;
}

/** A typed setting within [min, max] (whole for integers); NaN when the field is empty or not a number. */
export function clampSetting(text, min, max, integer) {
  if (String(text).trim() === "") return NaN;
  const v = Number(text);
  if (!Number.isFinite(v)) return NaN;
  return Math.min(max, Math.max(min, integer ? Math.trunc(v) : v));
}
