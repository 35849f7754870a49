import assert from "node:assert/strict";
import { test } from "node:test";
import { channelOrder, filterPixels, gridLayout, hitTest, mapValue, moveSlot, slotOrigin } from "../lib/feature_grid.js";

test("channels sort by mean, highest first, ties by index, NaN last", () => {
  assert.deepEqual(channelOrder([0.2, 0.9, -1, 0.9], false), [0, 1, 2, 3]);
  assert.deepEqual(channelOrder([0.2, 0.9, -1, 0.9], true), [1, 3, 0, 2]);
  assert.deepEqual(channelOrder(Float64Array.from([NaN, 1, 0]), true), [1, 2, 0]);
});

test("grid layout fits columns in the width and scales small maps by whole pixels", () => {
  const g = gridLayout(10, 8, 8, 200, 44, 3);
  assert.equal(g.scale, 5);
  assert.equal(g.tileW, 40);
  assert.equal(g.cols, 4); // 4 × 40 + 3 × 3 = 169 ≤ 200; 5 would need 212
  assert.equal(g.rows, 3);
  assert.equal(g.width, 169);
  assert.deepEqual(slotOrigin(g, 5), { x: 43, y: 43 });
  const big = gridLayout(64, 38, 38, 640);
  assert.equal(big.scale, 1);
  assert.equal(gridLayout(3, 1, 60, 640).scale, 1);
});

test("pointer positions map to slot and cell; gaps and empty slots are nothing", () => {
  const g = gridLayout(10, 8, 8, 200, 44, 3);
  assert.deepEqual(hitTest(g, 0, 0), { slot: 0, row: 0, col: 0 });
  assert.deepEqual(hitTest(g, 43 + 39, 43 + 12), { slot: 5, row: 2, col: 7 });
  assert.equal(hitTest(g, 41, 5), null); // gap
  assert.equal(hitTest(g, 43 * 3 + 1, 43 * 2 + 1), null); // slot 11 of 10
  assert.equal(hitTest(g, -1, 3), null);
});

test("tooltip value lookup reads channel, row, column of a C × h × w buffer", () => {
  const maps = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  assert.equal(mapValue(maps, 3, 4, 0, 0, 0), 0);
  assert.equal(mapValue(maps, 3, 4, 1, 2, 3), 23);
  assert.equal(mapValue(maps, 3, 4, 0, 1, 2), 6);
});

test("arrow keys move by one or a row, clamped", () => {
  const g = gridLayout(10, 8, 8, 200, 44, 3);
  assert.equal(moveSlot(g, -1, "ArrowRight"), 1);
  assert.equal(moveSlot(g, 2, "ArrowDown"), 6);
  assert.equal(moveSlot(g, 8, "ArrowDown"), 9);
  assert.equal(moveSlot(g, 0, "ArrowUp"), 0);
});

test("filter tiles: three inputs as colour over the filter's range, one through the LUT", () => {
  const lut = Uint8Array.from([0, 0, 255, 255, 255, 255, 255, 0, 0]); // blue, white, red
  const grey = filterPixels(Float32Array.from([-1, 0, 1, 0.2]), 1, 2, 2, 0, lut);
  assert.deepEqual(Array.from(grey.subarray(0, 4)), [0, 0, 255, 255]);
  assert.deepEqual(Array.from(grey.subarray(4, 8)), [255, 255, 255, 255]);
  assert.deepEqual(Array.from(grey.subarray(8, 12)), [255, 0, 0, 255]);
  // one 1 × 1 filter with inputs (r, g, b) = (0, 1, 2): stretched to 0, 128, 255
  const rgb = filterPixels(Float32Array.from([9, 9, 9, 0, 1, 2]), 3, 1, 1, 1, lut);
  assert.deepEqual(Array.from(rgb), [0, 128, 255, 255]);
});

test("the Activations payload splits channel-map layers: values by sizes, flags per channel", async () => {
  const { decodeActivity } = await import("../lib/activity.js");
  const enc = (Typed, xs, dtype) => ({ buffer: new DataView(Typed.from(xs).buffer), dtype, shape: [xs.length] });
  const layers = decodeActivity({
    names: ["conv", "fc"],
    types: ["Conv2d", "Linear"],
    sizes: enc(Int32Array, [2 * 1 * 2, 3], "int32"),
    flag_sizes: enc(Int32Array, [2, 3], "int32"),
    maps: enc(Int32Array, [2, 1, 2, 1, 0, 0, 0, 0], "int32"),
    values: enc(Float32Array, [1, 2, 3, 4, 5, 6, 7], "float32"),
    dead: enc(Uint8Array, [0, 1, 0, 0, 1], "uint8"),
    saturated: enc(Uint8Array, [0, 0, 0, 0, 0], "uint8"),
  });
  assert.deepEqual(layers[0].maps, { channels: 2, h: 1, w: 2, block: 1 });
  assert.deepEqual(Array.from(layers[0].dead), [0, 1]);
  assert.equal(mapValue(layers[0].values, 1, 2, 1, 0, 1), 4);
  assert.equal(layers[1].maps, null);
  assert.deepEqual(Array.from(layers[1].values), [5, 6, 7]);
  assert.deepEqual(Array.from(layers[1].dead), [0, 0, 1]);
});
