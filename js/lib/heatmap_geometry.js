// Geometry of the heatmap: fitting cells on screen, pointer → matrix cell, drag box → region.

/** Display size for `rows × cols` cells in a `maxWidth × maxHeight` box: square cells where they fit
 * (at most `maxCell` px), stretched to at least `minHeight` px for one-row matrices such as biases. */
export function fitLayout(rows, cols, maxWidth, maxHeight, maxCell = 40, minHeight = 24) {
  const cell = Math.min(maxWidth / cols, maxHeight / rows, maxCell);
  const width = cols * cell;
  const height = Math.min(maxHeight, Math.max(rows * cell, minHeight));
  return { width, height, cellWidth: width / cols, cellHeight: height / rows, rows, cols };
}

/** The payload cell under pixel (x, y), or null outside. */
export function cellAt(layout, x, y) {
  if (x < 0 || y < 0 || x >= layout.width || y >= layout.height) return null;
  const col = Math.min(layout.cols - 1, Math.floor(x / layout.cellWidth));
  const row = Math.min(layout.rows - 1, Math.floor(y / layout.cellHeight));
  return { row, col };
}

/** The half-open matrix rows and cols a payload cell stands for. */
export function cellSpan(heat, cell) {
  const [r0, r1, c0, c1] = heat.region;
  const rowStart = r0 + cell.row * heat.block_rows;
  const colStart = c0 + cell.col * heat.block_cols;
  return {
    row0: rowStart,
    row1: Math.min(r1, rowStart + heat.block_rows),
    col0: colStart,
    col1: Math.min(c1, colStart + heat.block_cols),
  };
}

/** The matrix region [row0, row1, col0, col1] covered by a drag from (x0, y0) to (x1, y1). */
export function dragRegion(layout, heat, x0, y0, x1, y1) {
  const clampX = (x) => Math.min(layout.width - 1e-6, Math.max(0, x));
  const clampY = (y) => Math.min(layout.height - 1e-6, Math.max(0, y));
  const a = cellAt(layout, clampX(Math.min(x0, x1)), clampY(Math.min(y0, y1)));
  const b = cellAt(layout, clampX(Math.max(x0, x1)), clampY(Math.max(y0, y1)));
  const first = cellSpan(heat, a);
  const last = cellSpan(heat, b);
  return [first.row0, last.row1, first.col0, last.col1];
}
