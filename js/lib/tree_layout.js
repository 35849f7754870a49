// Layout of a binary tree (arrays of left/right child indices, -1 for none): leaves spaced
// evenly in in-order, each parent centred over its children, depth as the row.

export function treeLayout(left, right, root = 0) {
  const x = new Array(left.length).fill(0);
  const depth = new Array(left.length).fill(0);
  let nextLeaf = 0;
  const visit = (i, d) => {
    depth[i] = d;
    if (left[i] === -1) {
      x[i] = nextLeaf++;
      return;
    }
    visit(left[i], d + 1);
    visit(right[i], d + 1);
    x[i] = (x[left[i]] + x[right[i]]) / 2;
  };
  visit(root, 0);
  return { x, depth, leaves: nextLeaf, levels: Math.max(...depth) + 1 };
}

/** Node indices from the root down to `leaf` (inclusive), or [] if it is not in the tree. */
export function pathTo(left, right, leaf, root = 0) {
  const path = [];
  const walk = (i) => {
    path.push(i);
    if (i === leaf) return true;
    if (left[i] !== -1 && (walk(left[i]) || walk(right[i]))) return true;
    path.pop();
    return false;
  };
  return walk(root) ? path : [];
}
