// The image explainer's brush: where a pointer is in the picture, which pixels a stroke paints, the
// undo stack of whole pictures, and a digest that says which picture a result was computed for.

/** The pointer at (`x`, `y`) CSS pixels inside a box `width` × `height` showing an `h` × `w` picture,
 * as fractional (row, column) picture coordinates: pixel (r, c) spans [r, r + 1) × [c, c + 1). */
export function pointerToPixel(x, y, width, height, h, w) {
  return [Math.min(h, Math.max(0, (y / height) * h)), Math.min(w, Math.max(0, (x / width) * w))];
}

/** Paint `value` into every channel of the pixels a brush of diameter `size` (pixels) covers at picture
 * point (`cy`, `cx`): those whose centre lies within size / 2 of the point, and always the pixel under it.
 * `values` is the flat (C, H, W) picture; returns how many values changed. */
export function stamp(values, shape, cy, cx, size, value) {
  const [c, h, w] = shape;
  const radius = size / 2;
  const r2 = radius * radius;
  const under = [Math.min(h - 1, Math.floor(cy)), Math.min(w - 1, Math.floor(cx))];
  let changed = 0;
  const r0 = Math.max(0, Math.floor(cy - radius));
  const r1 = Math.min(h - 1, Math.ceil(cy + radius));
  const c0 = Math.max(0, Math.floor(cx - radius));
  const c1 = Math.min(w - 1, Math.ceil(cx + radius));
  for (let r = r0; r <= r1; r++) {
    for (let q = c0; q <= c1; q++) {
      const dy = r + 0.5 - cy;
      const dx = q + 0.5 - cx;
      if (dy * dy + dx * dx > r2 && !(r === under[0] && q === under[1])) continue;
      for (let k = 0; k < c; k++) {
        const i = (k * h + r) * w + q;
        if (values[i] !== value) {
          values[i] = value;
          changed++;
        }
      }
    }
  }
  return changed;
}

/** Paint a straight stroke from `from` to `to` (picture points [row, column]) with stamps at most a
 * quarter pixel apart, so a fast drag leaves no gaps. Returns how many values changed. */
export function strokeSegment(values, shape, from, to, size, value) {
  const dy = to[0] - from[0];
  const dx = to[1] - from[1];
  const n = Math.max(1, Math.ceil(Math.hypot(dy, dx) * 4));
  let changed = 0;
  for (let i = 0; i <= n; i++) changed += stamp(values, shape, from[0] + (dy * i) / n, from[1] + (dx * i) / n, size, value);
  return changed;
}

/** Pictures before each stroke, newest last, at most `limit` of them. */
export class UndoStack {
  constructor(limit = 50) {
    this.limit = limit;
    this.items = [];
  }

  push(picture) {
    this.items.push(Float64Array.from(picture));
    if (this.items.length > this.limit) this.items.shift();
  }

  pop() {
    return this.items.pop() ?? null;
  }

  clear() {
    this.items.length = 0;
  }

  get size() {
    return this.items.length;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of the picture's float64 bytes (little-endian), as 8 hex digits: Python's
 * `zlib.crc32(values.astype('<f8').tobytes())`, so the page knows which picture a result is for. */
export function pictureDigest(values) {
  const floats = Float64Array.from(values);
  const bytes = new Uint8Array(floats.buffer);
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}
