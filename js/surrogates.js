// Surrogates view: GAM, linear and tree panels side by side with fidelity; the tree is drawn with
// the current row's path marked; click a panel's title to choose it.
import "./surrogates.css";
import { decodeArray } from "./lib/array.js";
import { divergingBars, orderByMagnitude } from "./lib/diverging_bars.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { svg } from "./lib/svg.js";
import { pathTo, treeLayout } from "./lib/tree_layout.js";
import { valuesKey } from "./lib/values.js";

const TOP = 8;
const NODE_W = 118;
const NODE_H = 34;
const GAP_X = 8;
const GAP_Y = 22;
const LABELS = { gam: "GAM (additive curves)", linear: "Linear model", tree: "Decision tree" };

function drawTree(t, names, leaf) {
  const left = Array.from(t.left);
  const right = Array.from(t.right);
  const layout = treeLayout(left, right);
  const onPath = new Set(pathTo(left, right, leaf));
  const W = layout.leaves * (NODE_W + GAP_X);
  const H = layout.levels * (NODE_H + GAP_Y);
  const plot = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, role: "img" });
  const cx = (i) => layout.x[i] * (NODE_W + GAP_X) + NODE_W / 2;
  const cy = (i) => layout.depth[i] * (NODE_H + GAP_Y);
  left.forEach((l, i) => {
    if (l === -1) return;
    for (const child of [l, right[i]]) {
      const cls = `nnw-tree-edge${onPath.has(i) && onPath.has(child) ? " nnw-on-path" : ""}`;
      plot.appendChild(svg("path", { class: cls, d: `M${cx(i)},${cy(i) + NODE_H}L${cx(child)},${cy(child)}` }));
    }
  });
  left.forEach((l, i) => {
    const g = svg("g", { class: `nnw-tree-node${onPath.has(i) ? " nnw-on-path" : ""}`, transform: `translate(${cx(i) - NODE_W / 2},${cy(i)})` });
    g.dataset.node = String(i);
    g.appendChild(svg("rect", { width: NODE_W, height: NODE_H }));
    const first = l === -1 ? `→ ${t.value[i].toPrecision(3)}` : `${names[t.feature[i]]} ≤ ${t.threshold[i].toPrecision(3)}`;
    g.appendChild(svg("text", { x: 5, y: 14 }, first.length > 22 ? `${first.slice(0, 21)}…` : first));
    g.appendChild(svg("text", { x: 5, y: 28 }, `${t.samples[i]} rows${l === -1 ? "" : ` · ${t.value[i].toPrecision(3)}`}`));
    g.appendChild(svg("title", {}, first));
    plot.appendChild(g);
  });
  return plot;
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-surrogates");
  const head = el("div", "nnw-panel-head");
  const title = el("span", "nnw-title", "Global surrogates");
  const busy = busyIndicator();
  const compare = el("span", "nnw-meta");
  const split = el("span", "nnw-meta");
  head.append(title, busy, compare, split);
  const row = el("div", "nnw-surrogates-row nnw-stale");
  const message = el("div", "nnw-message nnw-error");
  root.append(head, row, message);
  host.appendChild(root);
  const names = model.get("features").names;
  let renderCount = 0;

  const choose = (kind) => {
    model.set("chosen", kind);
    model.save_changes();
  };

  const draw = () => {
    showStatus(model, root, busy, message);
    const f = model.get("fitted");
    if (!f || !f.fidelity) return;
    const classification = model.get("mode") === "classification";
    title.textContent = classification
      ? `Global surrogates of the ${f.target} of ${model.get("class_names")[model.get("target_class")]}`
      : "Global surrogates of the model's output";
    split.textContent = f.split;
    const chosen = model.get("chosen");
    const preds = model.get("row_predictions") || {};
    const panel = (kind, body) => {
      const p = el("div", `nnw-surrogate${kind === chosen ? " nnw-selected" : ""}`);
      p.dataset.kind = kind;
      const h = el("div", "nnw-surrogate-head");
      const fid = f.fidelity[kind];
      const r2 = el("span", "nnw-r2", `R² ${fid.r2.toFixed(3)}`);
      r2.title = `fidelity: R² against the model; ${f.split}`;
      h.append(el("span", "nnw-title", LABELS[kind]), r2);
      if (fid.accuracy !== null) h.appendChild(el("span", "nnw-meta", `agree ${(fid.accuracy * 100).toFixed(1)}%`));
      h.addEventListener("click", () => choose(kind));
      p.append(h, body);
      return p;
    };
    const gamFeatures = decodeArray(f.gam_features);
    const gamImportance = decodeArray(f.gam_importance);
    const gamTop = Array.from(gamFeatures.slice(0, TOP));
    const gamBody = divergingBars(gamTop.map((j) => names[j]), Array.from(gamImportance.slice(0, TOP)), { title: "spread of the term" });
    const effect = decodeArray(f.linear_effect);
    const linTop = orderByMagnitude(effect).slice(0, TOP);
    const linBody = divergingBars(linTop.map((j) => names[j]), linTop.map((j) => effect[j]), { title: "coefficient × feature std" });
    const t = Object.fromEntries(Object.entries(f.tree).map(([k, v]) => [k, decodeArray(v)]));
    const treeBody = el("div", "nnw-tree");
    treeBody.appendChild(drawTree(t, names, preds.leaf ?? -1));
    row.replaceChildren(panel("gam", gamBody), panel("linear", linBody), panel("tree", treeBody));
    if (preds.for_values) {
      compare.textContent = `this row: model ${preds.model.toPrecision(4)} · ${chosen} ${preds[chosen].toPrecision(4)}`;
      root.dataset.forValues = valuesKey(decodeArray(preds.for_values));
      root.dataset.leaf = String(preds.leaf);
    }
    root.dataset.chosen = chosen;
    root.dataset.renderCount = String(++renderCount);
  };

  const events = `change:fitted change:row_predictions change:chosen change:target_class`;
  const redraw = coalesce(draw);
  const unlisten = listen(model, events, redraw);
  // Status changes (busy, progress, errors) only touch the status line, never redraw the content.
  const unlistenStatus = listen(model, STATUS_EVENTS, coalesce(() => showStatus(model, root, busy, message)));
  draw();
  return announce(model, signal, () => {
    unlisten();
    unlistenStatus();
  }, host);
}

export default { render };
