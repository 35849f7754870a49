import assert from "node:assert/strict";
import { test } from "node:test";
import { UndoStack, pictureDigest, pointerToPixel, stamp, strokeSegment } from "../lib/brush.js";
import { moveFocus, tileBackground, tileRect } from "../lib/gallery.js";
import { overlayRGBA, pictureRGBA, segmentEdges, segmentMap } from "../lib/image_canvas.js";

// An independent CRC-32 (bit by bit, no table), as zlib.crc32 computes it: the oracle for pictureDigest.
function zlibCrc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}

const painted = (values, h, w) => {
  const cells = [];
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) if (values[r * w + c] === 1) cells.push(`${r},${c}`);
  return cells;
};

test("a pointer maps to picture coordinates, clamped to the picture", () => {
  assert.deepEqual(pointerToPixel(0, 0, 280, 280, 8, 8), [0, 0]);
  assert.deepEqual(pointerToPixel(140, 35, 280, 280, 8, 8), [1, 4]);
  assert.deepEqual(pointerToPixel(-5, 400, 280, 140, 4, 8), [4, 0]);
});

test("a size-1 brush paints the one pixel under the pointer, in every channel", () => {
  const values = new Float64Array(2 * 4 * 4);
  assert.equal(stamp(values, [2, 4, 4], 1.2, 2.9, 1, 1), 2);
  assert.deepEqual(painted(values, 4, 4), ["1,2"]);
  assert.equal(values[16 + 1 * 4 + 2], 1); // the second channel too
  assert.equal(stamp(values, [2, 4, 4], 1.2, 2.9, 1, 1), 0); // nothing new: nothing changed
});

test("a size-3 brush paints the pixels whose centres lie within 1.5 pixels: a plus-shaped disc at a centre", () => {
  const values = new Float64Array(25);
  stamp(values, [1, 5, 5], 2.5, 2.5, 3, 1);
  // centre distance to the diagonal neighbours is √2 ≈ 1.41 ≤ 1.5: the full 3 × 3 block
  assert.deepEqual(painted(values, 5, 5), ["1,1", "1,2", "1,3", "2,1", "2,2", "2,3", "3,1", "3,2", "3,3"]);
  const edge = new Float64Array(25);
  stamp(edge, [1, 5, 5], 0.1, 0.1, 2, 1); // clipped at the corner
  assert.deepEqual(painted(edge, 5, 5), ["0,0"]);
});

test("a fast stroke leaves no gaps between its ends", () => {
  const values = new Float64Array(8 * 8);
  strokeSegment(values, [1, 8, 8], [0.5, 0.5], [0.5, 7.5], 1, 1);
  assert.deepEqual(painted(values, 8, 8), ["0,0", "0,1", "0,2", "0,3", "0,4", "0,5", "0,6", "0,7"]);
  const diagonal = new Float64Array(8 * 8);
  strokeSegment(diagonal, [1, 8, 8], [0.5, 0.5], [7.5, 7.5], 1, 1);
  for (let i = 0; i < 8; i++) assert.ok(painted(diagonal, 8, 8).includes(`${i},${i}`));
});

test("the undo stack gives pictures back newest first, copies, and keeps at most its limit", () => {
  const stack = new UndoStack(2);
  const picture = Float64Array.from([1, 2]);
  stack.push(picture);
  picture[0] = 9;
  stack.push(picture);
  stack.push(Float64Array.from([3, 3]));
  assert.equal(stack.size, 2);
  assert.deepEqual(Array.from(stack.pop()), [3, 3]);
  assert.deepEqual(Array.from(stack.pop()), [9, 2]);
  assert.equal(stack.pop(), null);
});

test("the picture digest is zlib's CRC-32 of the float64 bytes (what Python computes)", () => {
  const values = Float64Array.from([0, 0.25, 1, -3.5, 1e-300]);
  assert.equal(pictureDigest(values), zlibCrc32(new Uint8Array(values.buffer)));
  assert.equal(pictureDigest([]), "00000000");
  assert.notEqual(pictureDigest([0, 1]), pictureDigest([1, 0]));
});

test("tile i of a sprite sits at its column and row, and its CSS background is scaled with the sheet", () => {
  assert.deepEqual(tileRect(0, 16, [8, 8]), { x: 0, y: 0, width: 8, height: 8 });
  assert.deepEqual(tileRect(17, 16, [8, 6]), { x: 6, y: 8, width: 6, height: 8 });
  assert.deepEqual(tileBackground(17, 16, [8, 6], [16, 96], 4), { position: "-24px -32px", size: "384px 64px" });
});

test("arrow keys move through the grid and stop at its edges; other keys are no move", () => {
  assert.equal(moveFocus(5, "ArrowRight", 4, 10), 6);
  assert.equal(moveFocus(5, "ArrowDown", 4, 10), 9);
  assert.equal(moveFocus(8, "ArrowDown", 4, 10), 8);
  assert.equal(moveFocus(0, "ArrowLeft", 4, 10), 0);
  assert.equal(moveFocus(3, "End", 4, 10), 9);
  assert.equal(moveFocus(3, "a", 4, 10), null);
  assert.equal(moveFocus(0, "ArrowRight", 4, 0), null);
});

test("grey pictures map low..high to 0..255, colour pictures keep their channels", () => {
  const grey = pictureRGBA(Float64Array.from([0, 0.5, 1, 2]), [1, 2, 2], 0, 1);
  assert.deepEqual(Array.from(grey.slice(0, 8)), [0, 0, 0, 255, 128, 128, 128, 255]);
  assert.deepEqual(Array.from(grey.slice(12, 16)), [255, 255, 255, 255]); // above high: clipped
  const rgb = pictureRGBA(Float64Array.from([1, 0, 0]), [3, 1, 1], 0, 1);
  assert.deepEqual(Array.from(rgb), [255, 0, 0, 255]);
});

test("the overlay takes its colour from the LUT and its alpha from |value| / limit × opacity", () => {
  const lut = Uint8Array.from([0, 0, 255, 128, 128, 128, 255, 0, 0, 255, 0, 0]); // 4 entries: blue, grey, red, red
  const px = overlayRGBA(Float64Array.from([-2, 0, 1, 2, NaN]), 2, lut, 0.5);
  assert.deepEqual(Array.from(px.slice(0, 4)), [0, 0, 255, 128]); // −limit: blue, half opacity
  assert.equal(px[7], 0); // zero: transparent
  assert.deepEqual(Array.from(px.slice(8, 12)), [255, 0, 0, 64]); // +limit / 2: a quarter
  assert.equal(px[19], 0); // NaN: transparent
  assert.ok(overlayRGBA(Float64Array.from([0, 0]), 0, lut, 1).every((v) => v === 0)); // an all-zero map draws nothing
});

test("LIME segments: each pixel takes its segment's weight; edges run between different segments", () => {
  const segments = Int32Array.from([0, 0, 1, 2, 2, 1]); // 2 × 3
  assert.deepEqual(Array.from(segmentMap(segments, Float64Array.from([0.5, -1, 2]))), [0.5, 0.5, -1, 2, 2, -1]);
  assert.deepEqual(segmentEdges(segments, 2, 3), [[2, 0, 2, 1], [2, 1, 2, 2], [0, 1, 1, 1], [1, 1, 2, 1]]);
  assert.deepEqual(segmentEdges(Int32Array.from([4, 4, 4, 4]), 2, 2), []);
});
