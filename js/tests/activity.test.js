import assert from "node:assert/strict";
import { test } from "node:test";
import { count, decodeActivity, isSelected } from "../lib/activity.js";

const enc = (Typed, xs, dtype) => ({ buffer: new DataView(Typed.from(xs).buffer), dtype, shape: [xs.length] });

test("the concatenated payload splits back into layers", () => {
  const layers = decodeActivity({
    names: ["0", "1"],
    types: ["Linear", "ReLU"],
    sizes: enc(Int32Array, [2, 3], "int32"),
    values: enc(Float32Array, [1, -1, 0, 2, 0], "float32"),
    dead: enc(Uint8Array, [0, 0, 1, 0, 1], "uint8"),
    saturated: enc(Uint8Array, [0, 0, 0, 0, 0], "uint8"),
  });
  assert.equal(layers.length, 2);
  assert.deepEqual(Array.from(layers[1].values), [0, 2, 0]);
  assert.equal(count(layers[1].dead), 2);
  assert.deepEqual(decodeActivity({}), []);
});

test("a folded selection highlights the layers inside it", () => {
  assert.ok(isSelected("encoder.0", "encoder"));
  assert.ok(isSelected("encoder", "encoder"));
  assert.ok(!isSelected("encoder2.0", "encoder"));
  assert.ok(!isSelected("0", ""));
});
