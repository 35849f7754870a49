// Axes for small line charts: linear and log scales, tick values and labels, nearest point, and the
// step slider's positions (snapshots, then "latest").

/** About `count` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo, hi, count = 4) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) return [lo];
  if (lo > hi) [lo, hi] = [hi, lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.ceil(lo / step - 1e-9) * step;
  const ticks = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten inside [lo, hi] (both > 0), at most `max` of them (every k-th decade when more). */
export function logTicks(lo, hi, max = 4) {
  if (!(lo > 0) || !(hi > 0)) return [];
  if (lo > hi) [lo, hi] = [hi, lo];
  const a = Math.ceil(Math.log10(lo) - 1e-9);
  const b = Math.floor(Math.log10(hi) + 1e-9);
  if (b < a) return [];
  const every = Math.max(1, Math.ceil((b - a + 1) / max));
  const ticks = [];
  for (let e = b; e >= a; e -= every) ticks.unshift(10 ** e);
  return ticks;
}

/** [lo, hi] of the finite positive `values` (and `extra` values, such as a reference line), at
 * least one decade wide; [1e-3, 1] when there is none. */
export function logDomain(values, extra = []) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const list of [values, extra]) {
    for (const v of list) {
      if (Number.isFinite(v) && v > 0) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (!(lo <= hi)) return [1e-3, 1];
  const span = Math.log10(hi) - Math.log10(lo);
  if (span < 1) {
    const pad = (1 - span) / 2;
    lo /= 10 ** pad;
    hi *= 10 ** pad;
  }
  return [lo, hi];
}

/** Maps [d0, d1] (both > 0) onto [r0, r1] on a log scale; values ≤ 0 map to NaN. */
export function logScale([d0, d1], [r0, r1]) {
  const a = Math.log10(d0);
  const span = Math.log10(d1) - a;
  return (v) => (v > 0 ? (span === 0 ? (r0 + r1) / 2 : r0 + ((Math.log10(v) - a) / span) * (r1 - r0)) : NaN);
}

/** A tick label: powers of ten as 1e-3 / 10 / 1e+4, others short. */
export function tickLabel(v, log = false) {
  if (!Number.isFinite(v)) return "";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (log) {
    const e = Math.round(Math.log10(a));
    if (e >= -1 && e <= 2) return String(10 ** e);
    return `1e${e}`;
  }
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("+", "");
  if (a >= 1000) return `${Math.round(v / 100) / 10}k`;
  return String(Number(v.toPrecision(3)));
}

/** Index of the value in sorted `xs` nearest to `x` (-1 for an empty array). */
export function nearestIndex(xs, x) {
  const n = xs.length;
  if (!n) return -1;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[hi] - x) < Math.abs(xs[lo] - x) ? hi : lo;
}

/** The step a slider position stands for: positions 0..n-1 are the snapshot steps, n is -1 (latest). */
export function stepAtPosition(steps, position) {
  return position >= steps.length || position < 0 ? -1 : steps[position];
}

/** The slider position showing `step`: the last snapshot at or before it (the first if it comes
 * before all), or the end for -1 (latest). */
export function positionOfStep(steps, step) {
  if (step < 0 || !steps.length) return steps.length;
  let position = 0;
  for (let i = 0; i < steps.length; i++) if (steps[i] <= step) position = i;
  return position;
}

/** The finite points of a series as [xs, ys], skipping NaN/inf (and values ≤ 0 with `positive`). */
export function finitePoints(xs, ys, positive = false) {
  const outX = [];
  const outY = [];
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (Number.isFinite(y) && (!positive || y > 0)) {
      outX.push(xs[i]);
      outY.push(y);
    }
  }
  return [outX, outY];
}
