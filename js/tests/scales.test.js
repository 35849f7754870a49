import assert from "node:assert/strict";
import { test } from "node:test";
import { barLength, stepIndex } from "../lib/scales.js";

test("linear bars are proportional to the largest value", () => {
  assert.equal(barLength(50, 200, 100), 25);
  assert.equal(barLength(200, 200, 100), 100);
});

test("no bar for zero, negative, NaN or an empty scale", () => {
  for (const v of [0, -4, NaN]) assert.equal(barLength(v, 10, 100), 0);
  assert.equal(barLength(3, 0, 100), 0);
});

test("log bars: decades are equal steps, 1 is a visible sliver, max fills", () => {
  const one = barLength(1, 1e6, 100, true);
  const thousand = barLength(1e3, 1e6, 100, true);
  const million = barLength(1e6, 1e6, 100, true);
  assert.ok(one > 0 && one < 5);
  assert.ok(Math.abs(thousand - (one + million) / 2) < 1e-9);
  assert.equal(million, 100);
  assert.equal(barLength(1, 1, 100, true), 100);
});

test("keyboard stepping clamps at both ends and starts from nothing selected", () => {
  assert.equal(stepIndex(0, -1, 5), 0);
  assert.equal(stepIndex(4, 1, 5), 4);
  assert.equal(stepIndex(2, 1, 5), 3);
  assert.equal(stepIndex(-1, 1, 5), 0);
  assert.equal(stepIndex(-1, -1, 5), 4);
  assert.equal(stepIndex(0, 1, 0), -1);
});
