// Pixels for the image explainer's canvases: the picture itself, an attribution map laid over it in a
// diverging colour map (opacity growing with |attribution|), and LIME's superpixels (filled by weight,
// outlined along the edges between segments).
import { lutIndex } from "./colormap.js";

/** RGBA bytes of a flat (C, H, W) picture: one channel as grey, three or four as RGB, others as the
 * channels' mean; `low`..`high` maps to 0..255 (as nnwidgets/core/images.py's display_rgba). */
export function pictureRGBA(values, shape, low, high, out = new Uint8ClampedArray(shape[1] * shape[2] * 4)) {
  const [c, h, w] = shape;
  const n = h * w;
  const span = high > low ? high - low : 1;
  const level = (v) => Math.min(255, Math.max(0, Math.floor(((v - low) / span) * 255 + 0.5)));
  const colour = c === 3 || c === 4;
  for (let p = 0; p < n; p++) {
    const o = p * 4;
    if (colour) {
      out[o] = level(values[p]);
      out[o + 1] = level(values[n + p]);
      out[o + 2] = level(values[2 * n + p]);
    } else {
      let sum = 0;
      for (let k = 0; k < c; k++) sum += values[k * n + p];
      out[o] = out[o + 1] = out[o + 2] = level(sum / c);
    }
    out[o + 3] = 255;
  }
  return out;
}

/** RGBA bytes of a signed map over the picture: its colour from `lut` (RGB triples) on ±`limit`, its
 * alpha `opacity` × |value| / limit, so the picture shows through where the map is near zero. */
export function overlayRGBA(map, limit, lut, opacity, out = new Uint8ClampedArray(map.length * 4)) {
  const size = lut.length / 3;
  for (let i = 0; i < map.length; i++) {
    const o = i * 4;
    const v = map[i];
    const k = lutIndex(v, limit, size);
    if (k < 0 || !(limit > 0)) {
      out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
      continue;
    }
    out[o] = lut[3 * k];
    out[o + 1] = lut[3 * k + 1];
    out[o + 2] = lut[3 * k + 2];
    out[o + 3] = Math.round(255 * opacity * Math.min(1, Math.abs(v) / limit));
  }
  return out;
}

/** Each pixel's segment weight (LIME): `weights[segments[i]]`, 0 for a segment without a weight. */
export function segmentMap(segments, weights) {
  const out = new Float64Array(segments.length);
  for (let i = 0; i < segments.length; i++) out[i] = weights[segments[i]] ?? 0;
  return out;
}

/** The unit edges between pixels of different segments in an `h` × `w` label image, as
 * [x0, y0, x1, y1] in pixel-corner coordinates (vertical edges first, then horizontal). */
export function segmentEdges(segments, h, w) {
  const edges = [];
  for (let r = 0; r < h; r++) {
    for (let c = 1; c < w; c++) if (segments[r * w + c] !== segments[r * w + c - 1]) edges.push([c, r, c, r + 1]);
  }
  for (let r = 1; r < h; r++) {
    for (let c = 0; c < w; c++) if (segments[r * w + c] !== segments[(r - 1) * w + c]) edges.push([c, r, c + 1, r]);
  }
  return edges;
}

/** Put RGBA `pixels` of a `w` × `h` picture on `canvas`, scaled to fill it without smoothing. */
export function blit(canvas, pixels, h, w, clear = true) {
  const small = document.createElement("canvas");
  small.width = w;
  small.height = h;
  small.getContext("2d").putImageData(new ImageData(pixels, w, h), 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  if (clear) ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}
