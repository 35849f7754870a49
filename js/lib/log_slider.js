// A slider over a positive quantity on a log scale (learning rates from 1e-5 to 1).

export const LR_RANGE = [1e-5, 1];
export const SLIDER_STEPS = 100;

/** Slider position (0..steps) for `value`, clamped to `range`. */
export function toPosition(value, range = LR_RANGE, steps = SLIDER_STEPS) {
  const [lo, hi] = range.map(Math.log10);
  const v = Math.log10(Math.min(range[1], Math.max(range[0], value)));
  return Math.round(((v - lo) / (hi - lo)) * steps);
}

/** The value at slider `position`, rounded to 2 significant digits (1e-3, 2.5e-3, ...). */
export function fromPosition(position, range = LR_RANGE, steps = SLIDER_STEPS) {
  const [lo, hi] = range.map(Math.log10);
  return Number((10 ** (lo + (position / steps) * (hi - lo))).toPrecision(2));
}

/** A typed value if it is a positive finite number, else null. */
export function parsePositive(text) {
  const v = Number(String(text).trim());
  return Number.isFinite(v) && v > 0 ? v : null;
}
