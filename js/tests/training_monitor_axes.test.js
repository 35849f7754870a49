import assert from "node:assert/strict";
import { test } from "node:test";
import {
  finitePoints,
  logDomain,
  logScale,
  logTicks,
  nearestIndex,
  niceTicks,
  positionOfStep,
  stepAtPosition,
  tickLabel,
} from "../lib/axes.js";

test("nice ticks are round, evenly spaced and inside the range", () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0.13, 0.91, 4), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(5, 5), [5]);
  assert.deepEqual(niceTicks(10, 0, 2), [0, 5, 10]);
  assert.deepEqual(niceTicks(NaN, 1), []);
  for (const t of niceTicks(-3.7, 1234.5, 4)) assert.ok(t >= -3.7 && t <= 1234.5);
});

test("log ticks are powers of ten, thinned when there are many decades", () => {
  assert.deepEqual(logTicks(2e-4, 3), [1e-3, 1e-2, 1e-1, 1]);
  assert.deepEqual(logTicks(1e-9, 1e3, 4).length <= 4, true);
  assert.ok(logTicks(1e-9, 1e3, 4).includes(1e3));
  assert.deepEqual(logTicks(2, 3), []);
  assert.deepEqual(logTicks(0, 1), []);
});

test("log domain spans the positive values and extras, at least a decade", () => {
  assert.deepEqual(logDomain([1e-5, 0, -1, NaN, 1e-2]), [1e-5, 1e-2]);
  const [lo, hi] = logDomain([2, 3]);
  assert.ok(Math.log10(hi) - Math.log10(lo) >= 1 - 1e-9 && lo <= 2 && hi >= 3);
  assert.deepEqual(logDomain([1e-2, 1e-1], [1e-3]), [1e-3, 1e-1]);
  assert.deepEqual(logDomain([]), [1e-3, 1]);
});

test("log scale maps decades to equal steps; non-positive values to NaN", () => {
  const y = logScale([1e-4, 1], [100, 0]);
  assert.equal(y(1e-4), 100);
  assert.equal(y(1), 0);
  assert.ok(Math.abs(y(1e-2) - 50) < 1e-9);
  assert.ok(Number.isNaN(y(0)));
});

test("tick labels", () => {
  assert.equal(tickLabel(1e-3, true), "1e-3");
  assert.equal(tickLabel(1, true), "1");
  assert.equal(tickLabel(10, true), "10");
  assert.equal(tickLabel(1e5, true), "1e5");
  assert.equal(tickLabel(2500), "2.5k");
  assert.equal(tickLabel(0.25), "0.25");
  assert.equal(tickLabel(0), "0");
});

test("nearest index by binary search", () => {
  const xs = [1, 4, 9, 20];
  assert.equal(nearestIndex(xs, 0), 0);
  assert.equal(nearestIndex(xs, 6), 1);
  assert.equal(nearestIndex(xs, 7), 2);
  assert.equal(nearestIndex(xs, 100), 3);
  assert.equal(nearestIndex([], 3), -1);
});

test("slider positions: snapshots then latest, and back", () => {
  const steps = [1, 5, 9];
  assert.equal(stepAtPosition(steps, 0), 1);
  assert.equal(stepAtPosition(steps, 2), 9);
  assert.equal(stepAtPosition(steps, 3), -1);
  assert.equal(positionOfStep(steps, -1), 3);
  assert.equal(positionOfStep(steps, 6), 1);
  assert.equal(positionOfStep(steps, 0), 0);
  assert.equal(positionOfStep([], 4), 0);
});

test("finite points skip NaN, inf and (for log axes) non-positive values", () => {
  assert.deepEqual(finitePoints([1, 2, 3, 4], [0.5, NaN, Infinity, -1]), [[1, 4], [0.5, -1]]);
  assert.deepEqual(finitePoints([1, 2, 3, 4], [0.5, NaN, Infinity, -1], true), [[1], [0.5]]);
});
