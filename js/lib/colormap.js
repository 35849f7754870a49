// The diverging colour map (lookup table sent by Python), centred on zero.

/** Index into a LUT of `size` entries for `value` on a symmetric scale ±limit. */
export function lutIndex(value, limit, size) {
  if (!Number.isFinite(value)) return -1;
  if (!(limit > 0)) return Math.floor(size / 2);
  const t = (value / limit + 1) / 2; // -limit → 0, 0 → 0.5, +limit → 1
  return Math.min(size - 1, Math.max(0, Math.floor(t * size)));
}

/** Fill RGBA `pixels` (Uint8ClampedArray, 4 per value) from `values` through `lut` (RGB triples). */
export function paint(values, limit, lut, pixels, nanRGB = [128, 128, 128]) {
  const size = lut.length / 3;
  for (let i = 0; i < values.length; i++) {
    const k = lutIndex(values[i], limit, size);
    const o = i * 4;
    if (k < 0) {
      pixels[o] = nanRGB[0];
      pixels[o + 1] = nanRGB[1];
      pixels[o + 2] = nanRGB[2];
    } else {
      pixels[o] = lut[k * 3];
      pixels[o + 1] = lut[k * 3 + 1];
      pixels[o + 2] = lut[k * 3 + 2];
    }
    pixels[o + 3] = 255;
  }
  return pixels;
}

/** The symmetric limit for a range: max(|min|, |max|). */
export function symmetricLimit(min, max) {
  return Math.max(Math.abs(min ?? 0), Math.abs(max ?? 0));
}

/** Draw a rows × cols matrix of `values` on `canvas`, one colour per cell (no smoothing), scaled to
 * `layout.width` × `layout.height` CSS pixels at the screen's pixel density. */
export function drawCells(canvas, values, rows, cols, layout, lut, limit) {
  const cells = document.createElement("canvas");
  cells.width = cols;
  cells.height = rows;
  const cellCtx = cells.getContext("2d");
  const image = cellCtx.createImageData(cols, rows);
  paint(values, limit, lut, image.data);
  cellCtx.putImageData(image, 0, 0);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(layout.width * dpr);
  canvas.height = Math.round(layout.height * dpr);
  canvas.style.width = `${layout.width}px`;
  canvas.style.height = `${layout.height}px`;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, 0, 0, canvas.width, canvas.height);
}
