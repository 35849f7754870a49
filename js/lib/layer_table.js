// The layer table payload of LayerBars (nnwidgets/layer_bars.py: table_payload), decoded.
import { decodeArray } from "./array.js";

export const METRICS = ["parameters", "output units"];

export function decodeTable(table) {
  if (!table || !table.names) return { length: 0, names: [] };
  return {
    length: table.names.length,
    names: table.names,
    types: table.types,
    weightShapes: table.weight_shapes,
    inSize: decodeArray(table.in_size),
    outSize: decodeArray(table.out_size),
    params: decodeArray(table.params),
    hasWeights: decodeArray(table.has_weights),
  };
}

export function metricValues(rows, metric) {
  return metric === "output units" ? rows.outSize : rows.params;
}

/** The label a row shows: its qualified name, or the model's type for the model itself. */
export function displayName(rows, i) {
  return rows.names[i] || `(${rows.types[i]})`;
}
