import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeArray } from "../lib/array.js";

test("decodes a DataView at an aligned offset without copying", () => {
  const backing = new ArrayBuffer(4 + 3 * 4);
  new Float32Array(backing, 4, 3).set([1.5, -2, 3]);
  const out = decodeArray({ buffer: new DataView(backing, 4, 12), dtype: "float32", shape: [3] });
  assert.deepEqual(Array.from(out), [1.5, -2, 3]);
  assert.equal(out.buffer, backing);
});

test("copies when the offset is misaligned for the element size", () => {
  const backing = new ArrayBuffer(1 + 8);
  new DataView(backing).setFloat64(1, Math.PI, true);
  const out = decodeArray({ buffer: new DataView(backing, 1, 8), dtype: "float64", shape: [1] });
  assert.equal(out[0], Math.PI);
});

test("uint8, int32 and unknown dtypes", () => {
  assert.deepEqual(Array.from(decodeArray({ buffer: new Uint8Array([1, 0]), dtype: "uint8", shape: [2] })), [1, 0]);
  assert.deepEqual(Array.from(decodeArray({ buffer: new Int32Array([-3, 7]), dtype: "int32", shape: [2] })), [-3, 7]);
  assert.throws(() => decodeArray({ buffer: new Uint8Array(8), dtype: "complex64", shape: [1] }), /unsupported dtype/);
});
