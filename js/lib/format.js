// Number formatting for labels (short) and tooltips (exact).

const grouped = new Intl.NumberFormat("en-US");

/** Integers with thousands separators: 12,345,678. */
export function formatCount(n) {
  return Number.isFinite(n) ? grouped.format(n) : "—";
}

/** Short label: 1.2M, 35.0k, 812. */
export function formatShort(n) {
  if (!Number.isFinite(n)) return "—";
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n * 100) / 100);
}

/** A weight as stored: float32 shows 9 significant digits (round-trips), float64 17. */
export function formatExact(value, dtype) {
  if (value === null || value === undefined || Number.isNaN(value)) return "NaN";
  const digits = dtype === "float64" ? 17 : 9;
  return String(Number(value.toPrecision(digits)));
}
