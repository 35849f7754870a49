import assert from "node:assert/strict";
import { test } from "node:test";
import { visibleOrder, windowRange } from "../lib/feature_list.js";

test("search keeps matching names in the chosen order", () => {
  const names = ["age", "Income", "income tax", "zip"];
  assert.deepEqual(visibleOrder(names, "", null), [0, 1, 2, 3]);
  assert.deepEqual(visibleOrder(names, " INCOME ", null), [1, 2]);
  assert.deepEqual(visibleOrder(names, "income", [3, 2, 0, 1]), [2, 1]);
  assert.deepEqual(visibleOrder(names, "", [1, 0]), [0, 1, 2, 3]); // a ranking of another length is ignored
});

test("only the rows in view (and a few either side) are drawn", () => {
  assert.deepEqual(windowRange(0, 260, 26, 500, 4), [0, 14]);
  assert.deepEqual(windowRange(2600, 260, 26, 500, 4), [96, 114]);
  assert.deepEqual(windowRange(13000, 260, 26, 500, 4), [496, 500]);
  assert.deepEqual(windowRange(0, 260, 26, 3, 4), [0, 3]);
});
