import assert from "node:assert/strict";
import { test } from "node:test";
import { fromPosition, LR_RANGE, parsePositive, SLIDER_STEPS, toPosition } from "../lib/log_slider.js";
import { nearestIndex, niceTicks } from "../lib/axes.js";
import { logTicks, tickLabel, wantsLog, yAxis } from "../lib/loss_curve.js";

test("log slider: ends map to the range, decades are equal steps, round trip", () => {
  assert.equal(toPosition(LR_RANGE[0]), 0);
  assert.equal(toPosition(LR_RANGE[1]), SLIDER_STEPS);
  assert.equal(toPosition(1e-3) - toPosition(1e-4), toPosition(1e-2) - toPosition(1e-3));
  for (const lr of [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1]) assert.equal(fromPosition(toPosition(lr)), lr);
  assert.equal(toPosition(50), SLIDER_STEPS); // clamped
  assert.equal(toPosition(1e-9), 0);
});

test("exact learning rate: positive finite numbers only", () => {
  assert.equal(parsePositive(" 0.003 "), 0.003);
  assert.equal(parsePositive("1e-4"), 1e-4);
  for (const bad of ["0", "-1", "abc", "", "Infinity"]) assert.equal(parsePositive(bad), null);
});

test("nice ticks are round and inside the range", () => {
  assert.deepEqual(niceTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(1, 9, 4), [2, 4, 6, 8]);
  assert.deepEqual(niceTicks(0.11, 0.49, 4), [0.2, 0.3, 0.4]);
  assert.deepEqual(niceTicks(3, 3), [3]);
  assert.deepEqual(niceTicks(NaN, 1), []);
  for (const t of niceTicks(-0.37, 2.81, 5)) assert.ok(t >= -0.37 && t <= 2.81);
});

test("log ticks are decades; a narrow range falls back to linear ticks", () => {
  assert.deepEqual(logTicks(0.005, 3), [0.01, 0.1, 1]);
  assert.ok(logTicks(0.2, 0.9).length >= 2);
});

test("tick labels are short", () => {
  assert.equal(tickLabel(0), "0");
  assert.equal(tickLabel(0.30000000000000004), "0.3");
  assert.equal(tickLabel(20000), "2e4");
  assert.equal(tickLabel(0.0001), "1e-4");
});

test("nearest index in a sorted array", () => {
  assert.equal(nearestIndex([], 3), -1);
  assert.equal(nearestIndex([1, 5, 9], 6), 1);
  assert.equal(nearestIndex([1, 5, 9], 7.5), 2);
  assert.equal(nearestIndex([1, 5, 9], -10), 0);
  assert.equal(nearestIndex([1, 5, 9], 99), 2);
});

test("a loss axis goes log only for positive values spanning more than 20x", () => {
  assert.equal(wantsLog([2.3, 0.05]), true);
  assert.equal(wantsLog([2.3, 0.5]), false);
  assert.equal(wantsLog([0, 1]), false);
  const axis = yAxis([2.3, 0.05], 100, 0);
  assert.equal(axis.log, true);
  assert.equal(axis.scale(2.3), 0);
  assert.equal(axis.scale(0.05), 100);
  const flat = yAxis([1, 1], 100, 0);
  assert.ok(Math.abs(flat.scale(1) - 50) < 1e-9);
});
