// Bar-length scales for LayerBars.

/** Length in px of a bar for `value` when the largest value fills `width`. Log scale maps
 * [1, max] onto (0, width]; zero, negative or unknown values get no bar. */
export function barLength(value, max, width, log = false) {
  if (!Number.isFinite(value) || value <= 0 || !Number.isFinite(max) || max <= 0) return 0;
  if (!log) return (value / max) * width;
  if (max <= 1) return width;
  const minVisible = 2; // a value of 1 still shows as a sliver on a log scale
  return minVisible + (Math.log10(Math.max(value, 1)) / Math.log10(max)) * (width - minVisible);
}

/** The next index when stepping by `delta` through `count` items, clamped to the ends. */
export function stepIndex(index, delta, count) {
  if (count === 0) return -1;
  if (index < 0) return delta > 0 ? 0 : count - 1;
  return Math.min(count - 1, Math.max(0, index + delta));
}
