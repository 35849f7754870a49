import assert from "node:assert/strict";
import { test } from "node:test";
import { clampSetting, curveDomain, formatRatio, layerLabel, pictureScale, ratioText } from "../lib/ascent.js";

test("the ratio to the mean over real images reads short", () => {
  assert.equal(formatRatio(47.2), "47×");
  assert.equal(formatRatio(3.24), "3.2×");
  assert.equal(formatRatio(0.5312), "0.53×");
  assert.equal(formatRatio(1234.4), "1,234×");
  assert.equal(formatRatio(NaN), "—");
  assert.equal(ratioText(47.2, 1, 256), "47× the mean over 256 real images");
  assert.equal(ratioText(2, 4, 1), "0.5× the mean over 1 real image");
});

test("a mean that is not positive gives both values, no ratio", () => {
  assert.equal(ratioText(12.5, -1.25, 256), "12.5 against a mean of -1.25 over 256 real images (no ratio: that mean is not positive)");
  assert.match(ratioText(3, 0, 10), /no ratio/);
  assert.equal(ratioText(NaN, 1, 10), "");
});

test("the chart's domain holds the curve and the reference line, padded", () => {
  const [a, b] = curveDomain([1, 2, 3], 0);
  assert.ok(Math.abs(a + 0.15) < 1e-12 && Math.abs(b - 3.15) < 1e-12);
  const [lo, hi] = curveDomain([5, 6], 10);
  assert.ok(lo < 5 && hi > 10);
  assert.deepEqual(curveDomain([2, NaN, 2], NaN), [1.8, 2.2]);
  assert.deepEqual(curveDomain([], NaN), [0, 1]);
  assert.deepEqual(curveDomain([0, 0], 0), [-0.1, 0.1]);
});

test("pictures are magnified by whole pixels to fit", () => {
  assert.equal(pictureScale(8, 8), 24);
  assert.equal(pictureScale(28, 28), 6);
  assert.equal(pictureScale(224, 224), 1);
  assert.equal(pictureScale(8, 16, 100), 6);
});

test("layer labels name units, channels or classes", () => {
  assert.equal(layerLabel({ name: "", type: "output", units: 10, kind: "class" }), "output (10 classes)");
  assert.equal(layerLabel({ name: "features.3", type: "Conv2d", units: 16, kind: "channel" }), "features.3 (Conv2d, 16 channels)");
  assert.equal(layerLabel({ name: "fc", type: "Linear", units: 1, kind: "unit" }), "fc (Linear, 1 unit)");
});

test("typed settings are clamped to what Python accepts; empty or junk fields are not numbers", () => {
  assert.equal(clampSetting("99", 0, 15, true), 15);
  assert.equal(clampSetting("-3", 0, 15, true), 0);
  assert.equal(clampSetting("2.7", 0, 15, true), 2);
  assert.equal(clampSetting("0.25", 0, Infinity, false), 0.25);
  assert.ok(Number.isNaN(clampSetting("", 0, 1, false)));
  assert.ok(Number.isNaN(clampSetting("abc", 0, 1, false)));
});
