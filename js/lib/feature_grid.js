// Channel maps (and filters) laid out as a grid of small tiles on one canvas: order, geometry, pointer →
// channel and pixel, value lookup, and the pixels of a filter tile.
import { lutIndex } from "./colormap.js";

/** Channels in display order: by index, or by mean activation, highest first (ties by index; NaN last). */
export function channelOrder(means, byMean) {
  const order = Array.from({ length: means.length }, (_, i) => i);
  if (!byMean) return order;
  const key = (i) => (Number.isNaN(means[i]) ? -Infinity : means[i]);
  return order.sort((a, b) => key(b) - key(a) || a - b);
}

/** Grid geometry for `n` tiles of `h × w` cells: each cell `scale` CSS px (integer, tiles about `tile` px),
 * a `gap` of px between tiles, as many columns as fit in `maxWidth` px. */
export function gridLayout(n, h, w, maxWidth, tile = 44, gap = 3) {
  const scale = Math.max(1, Math.floor(tile / Math.max(h, w)));
  const tileW = w * scale;
  const tileH = h * scale;
  const cols = Math.max(1, Math.min(n, Math.floor((maxWidth + gap) / (tileW + gap))));
  const rows = Math.ceil(n / cols);
  return { n, h, w, scale, tileW, tileH, gap, cols, rows, width: cols * (tileW + gap) - gap, height: rows * (tileH + gap) - gap };
}

/** Top-left corner (CSS px) of the tile in display slot `slot`. */
export function slotOrigin(layout, slot) {
  const col = slot % layout.cols;
  const row = Math.floor(slot / layout.cols);
  return { x: col * (layout.tileW + layout.gap), y: row * (layout.tileH + layout.gap) };
}

/** The display slot and map cell under (x, y) CSS px, or null in a gap or outside. */
export function hitTest(layout, x, y) {
  if (x < 0 || y < 0) return null;
  const col = Math.floor(x / (layout.tileW + layout.gap));
  const row = Math.floor(y / (layout.tileH + layout.gap));
  const dx = x - col * (layout.tileW + layout.gap);
  const dy = y - row * (layout.tileH + layout.gap);
  const slot = row * layout.cols + col;
  if (col >= layout.cols || dx >= layout.tileW || dy >= layout.tileH || slot >= layout.n) return null;
  return { slot, row: Math.floor(dy / layout.scale), col: Math.floor(dx / layout.scale) };
}

/** Value of map `channel` at cell (row, col) in maps stored as channels × h × w. */
export function mapValue(maps, h, w, channel, row, col) {
  return maps[(channel * h + row) * w + col];
}

/** The display slot `steps` away from `slot` by arrow key (left/right ±1, up/down ± a row), clamped. */
export function moveSlot(layout, slot, key) {
  const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -layout.cols, ArrowDown: layout.cols }[key] ?? 0;
  return Math.min(layout.n - 1, Math.max(0, (slot < 0 ? 0 : slot) + steps));
}

/** RGBA pixels (kh · kw · 4) of filter `k` of weights stored out × in × kh × kw: three input channels as a
 * colour picture (stretched over the filter's own range), others as their mean through `lut` (RGB
 * triples) on the filter's own symmetric scale. */
export function filterPixels(weights, inC, kh, kw, k, lut) {
  const size = kh * kw;
  const base = k * inC * size;
  const out = new Uint8ClampedArray(size * 4);
  if (inC === 3) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 3 * size; i++) {
      lo = Math.min(lo, weights[base + i]);
      hi = Math.max(hi, weights[base + i]);
    }
    const span = hi > lo ? hi - lo : 1;
    for (let p = 0; p < size; p++) {
      for (let c = 0; c < 3; c++) out[p * 4 + c] = Math.round(((weights[base + c * size + p] - lo) / span) * 255);
      out[p * 4 + 3] = 255;
    }
    return out;
  }
  const mean = new Float64Array(size);
  for (let c = 0; c < inC; c++) for (let p = 0; p < size; p++) mean[p] += weights[base + c * size + p] / inC;
  let limit = 0;
  for (const v of mean) if (Number.isFinite(v)) limit = Math.max(limit, Math.abs(v));
  const entries = lut.length / 3;
  for (let p = 0; p < size; p++) {
    const i = Math.max(0, lutIndex(mean[p], limit, entries));
    out.set([lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2], 255], p * 4);
  }
  return out;
}

/** Paint `layout.n` tiles into `canvas` (one canvas pixel per CSS px): `tilePixels(slot)` gives the RGBA of the
 * tile in that slot, h × w cells, each drawn `layout.scale` px square. */
export function paintTiles(canvas, layout, tilePixels) {
  canvas.width = Math.max(1, layout.width);
  canvas.height = Math.max(1, layout.height);
  canvas.style.width = `${layout.width}px`;
  canvas.style.height = `${layout.height}px`;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(canvas.width, canvas.height);
  const { h, w, scale } = layout;
  for (let slot = 0; slot < layout.n; slot++) {
    const pixels = tilePixels(slot);
    const { x, y } = slotOrigin(layout, slot);
    for (let r = 0; r < h * scale; r++) {
      for (let c = 0; c < w * scale; c++) {
        const src = (Math.floor(r / scale) * w + Math.floor(c / scale)) * 4;
        const dst = ((y + r) * canvas.width + x + c) * 4;
        image.data[dst] = pixels[src];
        image.data[dst + 1] = pixels[src + 1];
        image.data[dst + 2] = pixels[src + 2];
        image.data[dst + 3] = 255;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
}
