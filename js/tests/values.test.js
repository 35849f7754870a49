import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeValues, sliderToValue, throttle, valuesKey } from "../lib/values.js";
import { decodeArray } from "../lib/array.js";

test("slider ends reach the data's exact extremes; the middle is untouched", () => {
  assert.equal(sliderToValue(2.2, -3.1, 2.2273860809131754, 0.053), 2.2273860809131754);
  assert.equal(sliderToValue(-3.09, -3.1, 2.22, 0.053), -3.1);
  assert.equal(sliderToValue(0.5, -3.1, 2.22, 0.053), 0.5);
});

test("values encode as float64 and decode back", () => {
  const payload = encodeValues([1.5, -2, 1e-300]);
  assert.equal(payload.dtype, "float64");
  assert.deepEqual(Array.from(decodeArray(payload)), [1.5, -2, 1e-300]);
  assert.equal(valuesKey([1 / 3, 2]), "0.333333,2.00000");
});

test("throttle sends at once, then at most once per interval, ending on the latest call", async () => {
  const sent = [];
  const send = throttle((v) => sent.push(v), 30);
  send(1);
  send(2);
  send(3);
  assert.deepEqual(sent, [1]);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(sent, [1, 3]);
});
