// Minimal SVG plotting helpers: linear scales and elements (text only ever via textContent).
const NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** A linear map from [d0, d1] onto [r0, r1]; a zero-width domain maps to the range's middle. */
export function linearScale([d0, d1], [r0, r1]) {
  const span = d1 - d0;
  return (v) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0));
}

/** [min, max] over any number of arrays, ignoring non-finite values. */
export function extent(...arrays) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) for (const v of a) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** SVG path through points (xs[i], ys[i]); with `closeBack` the path returns along (xs, closeBack). */
export function pathData(xs, ys, x, y, closeBack) {
  let d = "";
  for (let i = 0; i < xs.length; i++) d += `${i ? "L" : "M"}${x(xs[i]).toFixed(2)},${y(ys[i]).toFixed(2)}`;
  if (closeBack) {
    for (let i = xs.length - 1; i >= 0; i--) d += `L${x(xs[i]).toFixed(2)},${y(closeBack[i]).toFixed(2)}`;
    d += "Z";
  }
  return d;
}

/** Row `i` of a row-major matrix payload (shape [rows, cols]) as a subarray view. */
export function matrixRow(values, shape, i) {
  return values.subarray(i * shape[1], (i + 1) * shape[1]);
}
