import assert from "node:assert/strict";
import { test } from "node:test";
import { halfWidth, orderByMagnitude } from "../lib/diverging_bars.js";
import { extent, linearScale, matrixRow, pathData } from "../lib/svg.js";

test("linear scale maps ends and handles a zero-width domain", () => {
  const x = linearScale([0, 10], [100, 200]);
  assert.equal(x(0), 100);
  assert.equal(x(5), 150);
  const y = linearScale([0, 1], [80, 0]);
  assert.equal(y(1), 0);
  assert.equal(linearScale([3, 3], [0, 10])(3), 5);
});

test("extent ignores non-finite values and defaults when empty", () => {
  assert.deepEqual(extent([1, NaN, -2], [5]), [-2, 5]);
  assert.deepEqual(extent([]), [0, 1]);
});

test("band path goes out along the upper line and back along the lower one", () => {
  const id = (v) => v;
  assert.equal(pathData([0, 1], [2, 3], id, id, [0, 1]), "M0.00,2.00L1.00,3.00L1.00,1.00L0.00,0.00Z");
});

test("matrix rows are views of a row-major payload", () => {
  const m = Float64Array.from([1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(matrixRow(m, [2, 3], 1)), [4, 5, 6]);
});

test("diverging bar width is relative to the largest magnitude", () => {
  assert.equal(halfWidth(-0.5, 1), 50);
  assert.equal(halfWidth(2, 1), 100);
  assert.equal(halfWidth(1, 0), 0);
  assert.equal(halfWidth(NaN, 1), 0);
});

test("features ordered by magnitude, sign ignored", () => {
  assert.deepEqual(orderByMagnitude(Float64Array.from([0.1, -3, 2])), [1, 2, 0]);
});
