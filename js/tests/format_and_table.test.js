import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCount, formatExact, formatShort } from "../lib/format.js";
import { decodeTable, displayName, metricValues } from "../lib/layer_table.js";

test("exact weights round-trip float32 and float64", () => {
  const f32 = Math.fround(0.1);
  assert.equal(Math.fround(Number(formatExact(f32, "float32"))), f32);
  assert.equal(Number(formatExact(0.1 + 0.2, "float64")), 0.1 + 0.2);
  assert.equal(formatExact(NaN, "float32"), "NaN");
});

test("counts and short labels", () => {
  assert.equal(formatCount(252006400), "252,006,400");
  assert.equal(formatShort(252006400), "252.0M");
  assert.equal(formatShort(12345), "12.3k");
  assert.equal(formatShort(NaN), "—");
});

test("decodes the layer table and picks the metric column", () => {
  const f64 = (xs) => ({ buffer: new DataView(new Float64Array(xs).buffer), dtype: "float64", shape: [xs.length] });
  const rows = decodeTable({
    names: ["", "fc"],
    types: ["Net", "Linear"],
    weight_shapes: ["", "2×3"],
    in_size: f64([NaN, 3]),
    out_size: f64([NaN, 2]),
    params: f64([0, 8]),
    has_weights: { buffer: new DataView(new Uint8Array([0, 1]).buffer), dtype: "uint8", shape: [2] },
  });
  assert.equal(rows.length, 2);
  assert.deepEqual(Array.from(metricValues(rows, "parameters")), [0, 8]);
  assert.equal(metricValues(rows, "output units")[1], 2);
  assert.equal(displayName(rows, 0), "(Net)");
  assert.equal(decodeTable(null).length, 0);
});
