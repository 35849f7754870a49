import assert from "node:assert/strict";
import { test } from "node:test";
import { lutIndex, paint, symmetricLimit } from "../lib/colormap.js";

test("zero maps to the middle, ±limit to the ends", () => {
  assert.equal(lutIndex(0, 2, 256), 128);
  assert.equal(lutIndex(-2, 2, 256), 0);
  assert.equal(lutIndex(2, 2, 256), 255);
  assert.equal(lutIndex(5, 2, 256), 255);
  assert.equal(lutIndex(NaN, 2, 256), -1);
  assert.equal(lutIndex(0.3, 0, 256), 128);
});

test("paint writes RGBA from the LUT and grey for NaN", () => {
  const lut = new Uint8Array([0, 0, 255, 255, 255, 255, 255, 0, 0]); // blue, white, red
  const pixels = paint(new Float32Array([-1, 0, 1, NaN]), 1, lut, new Uint8ClampedArray(16));
  assert.deepEqual(Array.from(pixels), [0, 0, 255, 255, 255, 255, 255, 255, 255, 0, 0, 255, 128, 128, 128, 255]);
});

test("symmetric limit", () => {
  assert.equal(symmetricLimit(-3, 1), 3);
  assert.equal(symmetricLimit(0.5, 2), 2);
  assert.equal(symmetricLimit(null, null), 0);
});
