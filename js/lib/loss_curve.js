// A small SVG plot of a training curve (loss per step) with an optional second curve on a 0–1 right
// axis (accuracy): axes with ticks, a hover/keyboard cursor with a tooltip.
import { extent, linearScale, pathData, svg } from "./svg.js";
import { logTicks as decades, nearestIndex, niceTicks } from "./axes.js";

/** Powers of ten inside [lo, hi] (both > 0); when fewer than two, linear ticks instead. */
export function logTicks(lo, hi) {
  const ticks = decades(lo, hi, Infinity);
  return ticks.length >= 2 ? ticks : niceTicks(lo, hi, 4);
}

/** A tick label: short and exact enough for axis ticks. */
export function tickLabel(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

export const MARGIN = { left: 46, right: 38, top: 8, bottom: 26 };

/** Whether a loss curve reads better on a log axis: positive values spanning over 20×. */
export function wantsLog(values) {
  const [lo, hi] = extent(values);
  return lo > 0 && hi / lo > 20;
}

/** The y scale for `values` in [bottom, top] px: {scale, ticks, log}. */
export function yAxis(values, bottom, top) {
  const [lo, hi] = extent(values);
  if (wantsLog(values)) {
    const l = Math.log10(lo);
    const h = Math.log10(hi);
    const s = linearScale([l, h], [bottom, top]);
    return { scale: (v) => s(Math.log10(Math.max(v, lo))), ticks: logTicks(lo, hi), log: true };
  }
  const pad = hi > lo ? (hi - lo) * 0.05 : Math.abs(hi) * 0.1 || 1;
  const domain = [lo - pad, hi + pad];
  return { scale: linearScale(domain, [bottom, top]), ticks: niceTicks(domain[0], domain[1], 4), log: false };
}

/** Draw into `plot` (an <svg>): `curve` = {steps, values, steps2?, values2?, label, label2}. Returns
 * {x, y, y2} scales for the cursor, or null when there is nothing to draw. */
export function drawCurve(plot, curve, width, height) {
  plot.replaceChildren();
  plot.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const { steps, values } = curve;
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const bottom = height - MARGIN.bottom;
  const top = MARGIN.top;
  plot.appendChild(svg("rect", { class: "nnw-curve-frame", x: left, y: top, width: right - left, height: bottom - top }));
  if (!steps || !steps.length) {
    plot.appendChild(svg("text", { class: "nnw-curve-empty", x: (left + right) / 2, y: (top + bottom) / 2, "text-anchor": "middle" }, "no steps yet: press ▶ or step"));
    return null;
  }
  const [s0, s1] = [steps[0], steps[steps.length - 1]];
  const x = linearScale(s0 === s1 ? [s0 - 1, s1 + 1] : [s0, s1], [left, right]);
  const y = yAxis(values, bottom, top);
  const axis = svg("g", { class: "nnw-curve-axis" });
  for (const t of niceTicks(s0, s1, 5).filter((t) => Number.isInteger(t))) {
    axis.appendChild(svg("line", { x1: x(t), x2: x(t), y1: bottom, y2: bottom + 4 }));
    axis.appendChild(svg("text", { x: x(t), y: bottom + 15, "text-anchor": "middle" }, tickLabel(t)));
  }
  for (const t of y.ticks) {
    const py = y.scale(t);
    if (py < top - 0.5 || py > bottom + 0.5) continue;
    axis.appendChild(svg("line", { class: "nnw-curve-grid", x1: left, x2: right, y1: py, y2: py }));
    axis.appendChild(svg("text", { x: left - 4, y: py + 3, "text-anchor": "end" }, tickLabel(t)));
  }
  axis.appendChild(svg("text", { x: (left + right) / 2, y: height - 2, "text-anchor": "middle" }, "step"));
  axis.appendChild(svg("text", { x: 10, y: (top + bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 10 ${(top + bottom) / 2})` },
    `${curve.label}${y.log ? " (log)" : ""}`));
  let y2 = null;
  if (curve.steps2 && curve.steps2.length) {
    y2 = linearScale([0, 1], [bottom, top]);
    for (const t of [0, 0.5, 1]) {
      axis.appendChild(svg("text", { class: "nnw-curve-right", x: right + 4, y: y2(t) + 3 }, tickLabel(t)));
    }
    axis.appendChild(svg("text", { class: "nnw-curve-right", x: width - 8, y: (top + bottom) / 2, "text-anchor": "middle", transform: `rotate(90 ${width - 8} ${(top + bottom) / 2})` }, curve.label2));
    plot.appendChild(svg("path", { class: "nnw-curve-line2", d: pathData(curve.steps2, curve.values2, x, y2) }));
  }
  plot.appendChild(axis);
  plot.appendChild(svg("path", { class: "nnw-curve-line", d: pathData(steps, values, x, y.scale) }));
  return { x, y: y.scale, y2 };
}

/** The point of `curve` nearest to pixel column `px` (or at `index`): {index, step, value, value2}. */
export function pointAt(curve, scales, { px, index }) {
  const { steps, values } = curve;
  if (!steps || !steps.length) return null;
  let i = index;
  if (i === undefined) {
    const xs = Array.from(steps, (s) => scales.x(s));
    i = nearestIndex(xs, px);
  }
  i = Math.max(0, Math.min(steps.length - 1, i));
  const step = steps[i];
  let value2 = null;
  if (curve.steps2 && curve.steps2.length) value2 = curve.values2[nearestIndex(curve.steps2, step)];
  return { index: i, step, value: values[i], value2 };
}
