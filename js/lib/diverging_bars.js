// Horizontal bars diverging from zero (LIME weights, GAM contributions). Labels go in as text.
import { el } from "./dom.js";
import { formatExact } from "./format.js";

/** Width (% of half the track) for `value` when the largest |value| is `limit`. */
export function halfWidth(value, limit) {
  if (!(limit > 0) || !Number.isFinite(value)) return 0;
  return Math.min(100, (Math.abs(value) / limit) * 100);
}

/** Rows of `labels[i]` with a bar for `values[i]`; returns the list element. */
export function divergingBars(labels, values, { title } = {}) {
  const list = el("div", "nnw-dbars");
  let limit = 0;
  for (const v of values) if (Number.isFinite(v)) limit = Math.max(limit, Math.abs(v));
  labels.forEach((label, i) => {
    const v = values[i];
    const row = el("div", "nnw-dbar-row");
    row.dataset.value = String(v);
    row.title = `${label}\n${title ?? "value"}: ${formatExact(v, "float64")}`;
    const track = el("div", "nnw-dbar-track");
    const bar = el("div", `nnw-dbar ${v >= 0 ? "nnw-pos" : "nnw-neg"}`);
    bar.style.width = `${halfWidth(v, limit) / 2}%`;
    track.appendChild(bar);
    row.append(el("div", "nnw-dbar-label", label), track, el("div", "nnw-dbar-value", Number(v).toPrecision(3)));
    list.appendChild(row);
  });
  return list;
}

/** Indices of `values` by decreasing magnitude. */
export function orderByMagnitude(values) {
  return Array.from(values.keys()).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]));
}
