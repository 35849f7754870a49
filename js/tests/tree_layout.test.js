import assert from "node:assert/strict";
import { test } from "node:test";
import { pathTo, treeLayout } from "../lib/tree_layout.js";

//        0
//      1   4
//     2 3 5 6
const left = [1, 2, -1, -1, 5, -1, -1];
const right = [4, 3, -1, -1, 6, -1, -1];

test("leaves spread evenly in order, parents centred, depth per level", () => {
  const { x, depth, leaves, levels } = treeLayout(left, right);
  assert.deepEqual([x[2], x[3], x[5], x[6]], [0, 1, 2, 3]);
  assert.equal(x[1], 0.5);
  assert.equal(x[0], 1.5);
  assert.deepEqual(depth, [0, 1, 2, 2, 1, 2, 2]);
  assert.equal(leaves, 4);
  assert.equal(levels, 3);
});

test("path from the root to a leaf", () => {
  assert.deepEqual(pathTo(left, right, 5), [0, 4, 5]);
  assert.deepEqual(pathTo(left, right, 9), []);
});
