import assert from "node:assert/strict";
import { test } from "node:test";

// The histogram builds SVG through document.createElementNS: a minimal stand-in records what it makes.
globalThis.document = {
  createElementNS: (_ns, tag) => ({
    tag, attrs: {}, children: [], dataset: {}, textContent: "",
    setAttribute(k, v) { this.attrs[k] = v; },
    appendChild(c) { this.children.push(c); return c; },
  }),
};
const { histogram } = await import("../lib/histogram.js");

test("bar heights are proportional to counts and span the edges", () => {
  const plot = histogram([0, 1, 2], [2, 4], [], 104, 100, "h");
  const [a, b] = plot.children.filter((c) => c.tag === "rect");
  assert.equal(Number(a.attrs.x), 2);
  assert.ok(Math.abs(Number(b.attrs.height) - 2 * Number(a.attrs.height)) < 1e-9);
  assert.equal(a.children[0].textContent, "0.00 … 1.00: 2");
});

test("a curve with its own y domain is scaled on its own", () => {
  const plot = histogram([0, 1, 2], [1, 1], [{ cls: "c", xs: [0, 2], values: [-1, 1], yDomain: [-1, 1] }], 104, 100, "h");
  const path = plot.children.find((c) => c.tag === "path");
  assert.equal(path.attrs.d, "M2.00,96.00L102.00,6.00");
});
