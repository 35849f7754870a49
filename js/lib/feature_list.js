// The editor's feature list for wide data: which features show (search, sort) and which rows of a
// long list are in view (only those are in the DOM).

/** Feature indices to list: in `ranking`'s order if given (else data order), those whose name
 * contains `query` (case-insensitive). */
export function visibleOrder(names, query, ranking) {
  const order = ranking && ranking.length === names.length ? Array.from(ranking) : names.map((_, i) => i);
  const q = (query || "").trim().toLowerCase();
  return q ? order.filter((i) => String(names[i]).toLowerCase().includes(q)) : order;
}

/** The slice [first, last) of a list of `count` rows of `rowHeight` px that a viewport scrolled to
 * `scrollTop` and `height` px tall shows, with `overscan` rows either side. */
export function windowRange(scrollTop, height, rowHeight, count, overscan = 4) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}
