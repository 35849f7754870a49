// The image gallery: where each thumbnail sits in the one sprite sheet, and how the arrow keys move
// through the grid of tiles.

/** Tile `index`'s place in a sprite of `columns` tiles per row, each `tile` = [height, width]:
 * {x, y, width, height} in sprite pixels. */
export function tileRect(index, columns, tile) {
  const [th, tw] = tile;
  return { x: (index % columns) * tw, y: Math.floor(index / columns) * th, width: tw, height: th };
}

/** CSS background for tile `index` shown `scale` times its size, from a sprite `sheet` = [height, width]. */
export function tileBackground(index, columns, tile, sheet, scale) {
  const { x, y } = tileRect(index, columns, tile);
  return {
    position: `${-x * scale}px ${-y * scale}px`,
    size: `${sheet[1] * scale}px ${sheet[0] * scale}px`,
  };
}

/** The tile a key moves the focus to in a grid of `count` tiles, `columns` across (null: not a move). */
export function moveFocus(index, key, columns, count) {
  if (count <= 0) return null;
  const moves = {
    ArrowLeft: index - 1,
    ArrowRight: index + 1,
    ArrowUp: index - columns,
    ArrowDown: index + columns,
    Home: 0,
    End: count - 1,
  };
  if (!(key in moves)) return null;
  const next = moves[key];
  return next < 0 || next >= count ? index : next;
}
