// The `values` trait travels as a float64 buffer both ways (nnwidgets/_tabular_widget.py).
import { decodeArray } from "./array.js";

export function readValues(model) {
  const payload = model.get("values");
  if (!payload) return new Float64Array(0);
  return Array.isArray(payload) ? Float64Array.from(payload) : Float64Array.from(decodeArray(payload));
}

export function encodeValues(values) {
  const array = Float64Array.from(values);
  return { buffer: new DataView(array.buffer), dtype: "float64", shape: [array.length] };
}

/** Calls `send` at most once per `ms`, always ending with the latest arguments. */
export function throttle(send, ms) {
  let last = 0;
  let timer = null;
  let latest = null;
  return (...args) => {
    latest = args;
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      send(...latest);
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        send(...latest);
      }, wait);
    }
  };
}

/** A short, stable fingerprint of values (for data-attributes that tests wait on). */
export function valuesKey(values) {
  return Array.from(values, (v) => Number(v).toPrecision(6)).join(",");
}

/** A slider position as a feature value: within one step of either end it is the data's exact
 * extreme (a range input snaps to min + k·step and would otherwise never reach max). */
export function sliderToValue(position, lo, hi, step) {
  if (position + step > hi) return hi;
  if (position - step < lo) return lo;
  return position;
}
