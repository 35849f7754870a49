import assert from "node:assert/strict";
import { test } from "node:test";
import { cellAt, cellSpan, dragRegion, fitLayout } from "../lib/heatmap_geometry.js";

test("square cells fit the box; one-row matrices are stretched to be visible", () => {
  const square = fitLayout(256, 256, 512, 420);
  assert.equal(square.cellWidth, square.cellHeight);
  assert.ok(square.width <= 512 && square.height <= 420);
  const bias = fitLayout(1, 1000, 500, 400);
  assert.equal(bias.width, 500);
  assert.equal(bias.height, 24);
  const tiny = fitLayout(2, 3, 500, 400);
  assert.equal(tiny.cellWidth, 40);
});

test("hit testing maps pixels to cells and rejects outside points", () => {
  const layout = fitLayout(4, 8, 80, 80); // 10 px cells
  assert.deepEqual(cellAt(layout, 0, 0), { row: 0, col: 0 });
  assert.deepEqual(cellAt(layout, 79.9, 39.9), { row: 3, col: 7 });
  assert.deepEqual(cellAt(layout, 25, 15), { row: 1, col: 2 });
  assert.equal(cellAt(layout, 80, 0), null);
  assert.equal(cellAt(layout, -1, 5), null);
});

test("a pooled cell spans its block, clipped at the region's edge", () => {
  const heat = { region: [10, 105, 0, 50], block_rows: 32, block_cols: 16 };
  assert.deepEqual(cellSpan(heat, { row: 0, col: 1 }), { row0: 10, row1: 42, col0: 16, col1: 32 });
  assert.deepEqual(cellSpan(heat, { row: 2, col: 3 }), { row0: 74, row1: 105, col0: 48, col1: 50 });
});

test("a drag box becomes the matrix region of the cells it touches, in either direction", () => {
  const layout = fitLayout(4, 4, 40, 40); // 10 px cells
  const heat = { region: [0, 400, 0, 400], block_rows: 100, block_cols: 100 };
  assert.deepEqual(dragRegion(layout, heat, 5, 5, 25, 15), [0, 200, 0, 300]);
  assert.deepEqual(dragRegion(layout, heat, 25, 15, 5, 5), [0, 200, 0, 300]);
  assert.deepEqual(dragRegion(layout, heat, -50, -50, 500, 500), [0, 400, 0, 400]);
});
