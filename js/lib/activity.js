// The Activations payload (nnwidgets/activations.py: activity_payload), split back into layers.
import { decodeArray } from "./array.js";

export function decodeActivity(payload) {
  if (!payload || !payload.sizes) return [];
  const sizes = decodeArray(payload.sizes);
  const flagSizes = payload.flag_sizes ? decodeArray(payload.flag_sizes) : sizes;
  const maps = payload.maps ? decodeArray(payload.maps) : null; // per layer: channels, h, w, block (zeros: none)
  const values = decodeArray(payload.values);
  const dead = decodeArray(payload.dead);
  const saturated = decodeArray(payload.saturated);
  const layers = [];
  let offset = 0;
  let flagOffset = 0;
  sizes.forEach((size, i) => {
    const flags = flagSizes[i];
    const shape = maps && maps[i * 4] > 0 ? { channels: maps[i * 4], h: maps[i * 4 + 1], w: maps[i * 4 + 2], block: maps[i * 4 + 3] } : null;
    layers.push({
      name: payload.names[i],
      type: payload.types[i],
      values: values.subarray(offset, offset + size),
      dead: dead.subarray(flagOffset, flagOffset + flags),
      saturated: saturated.subarray(flagOffset, flagOffset + flags),
      maps: shape,
    });
    offset += size;
    flagOffset += flags;
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
