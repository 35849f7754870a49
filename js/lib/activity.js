// The Activations payload (nnwidgets/activations.py: activity_payload), split back into layers.
import { decodeArray } from "./array.js";

export function decodeActivity(payload) {
  if (!payload || !payload.sizes) return [];
  const sizes = decodeArray(payload.sizes);
  const values = decodeArray(payload.values);
  const dead = decodeArray(payload.dead);
  const saturated = decodeArray(payload.saturated);
  const layers = [];
  let offset = 0;
  sizes.forEach((size, i) => {
    layers.push({
      name: payload.names[i],
      type: payload.types[i],
      values: values.subarray(offset, offset + size),
      dead: dead.subarray(offset, offset + size),
      saturated: saturated.subarray(offset, offset + size),
    });
    offset += size;
  });
  return layers;
}

/** Whether layer `name` is the selection or inside a selected (folded) group. */
export function isSelected(name, selected) {
  return selected !== "" && (name === selected || name.startsWith(`${selected}.`));
}

export function count(flags) {
  let n = 0;
  for (const f of flags) n += f ? 1 : 0;
  return n;
}
