// WeightDistributions view: per-layer weight histograms with Glorot and He initial curves.
import "./weight_distributions.css";
import { decodeArray } from "./lib/array.js";
import { el, showMessage } from "./lib/dom.js";
import { coalesce } from "./lib/schedule.js";
import { histogram } from "./lib/histogram.js";
import { matrixRow } from "./lib/svg.js";

const INITS = ["Glorot", "He"];
const W = 250;
const H = 110;
const BIAS_H = 30;

function render({ model, el: host }) {
  const root = el("div", "nnw-root nnw-distributions");
  const head = el("div", "nnw-panel-head");
  head.append(el("span", "nnw-title", "Weight distributions"), el("span", "nnw-meta", "vs initialisation:"),
    el("span", "nnw-meta nnw-legend-Glorot", "– – Glorot normal"), el("span", "nnw-meta nnw-legend-He", "··· He normal"));
  const grid = el("div", "nnw-dist-grid");
  const message = el("div", "nnw-message");
  root.append(head, grid, message);
  host.appendChild(root);
  let renderCount = 0;

  const draw = () => {
    showMessage(message, model.get("message"));
    const p = model.get("distributions");
    if (!p || !p.names || !p.names.length) return grid.replaceChildren();
    const edges = decodeArray(p.edges);
    const counts = decodeArray(p.counts);
    const fans = decodeArray(p.fans);
    const stds = decodeArray(p.stds);
    const biasEdges = decodeArray(p.bias_edges);
    const biasCounts = decodeArray(p.bias_counts);
    const expected = Object.fromEntries(INITS.map((k) => [k, decodeArray(p.expected[k])]));
    const selected = model.get("selected_layer");
    grid.replaceChildren(
      ...p.names.map((name, i) => {
        const cell = el("div", `nnw-card nnw-dist${name === selected ? " nnw-selected" : ""}`);
        cell.dataset.name = name;
        const title = el("div", "nnw-curve-title");
        title.append(el("b", "", name || "(model)"), el("span", "nnw-meta", ` ${p.types[i]} · fan ${fans[2 * i]}→${fans[2 * i + 1]}`));
        const s = matrixRow(stds, p.stds.shape, i);
        const stats = el("div", "nnw-meta", `std ${s[0].toPrecision(3)} · Glorot ${s[1].toPrecision(3)} · He ${s[2].toPrecision(3)}`);
        const curves = INITS.map((k) => ({ cls: `nnw-init-${k}`, values: matrixRow(expected[k], p.expected[k].shape, i) }));
        cell.append(title, histogram(matrixRow(edges, p.edges.shape, i), matrixRow(counts, p.counts.shape, i), curves, W, H, "nnw-hist"), stats);
        const be = matrixRow(biasEdges, p.bias_edges.shape, i);
        if (Number.isFinite(be[0])) {
          cell.append(el("div", "nnw-meta", "bias"), histogram(be, matrixRow(biasCounts, p.bias_counts.shape, i), [], W, BIAS_H, "nnw-hist-bias"));
        }
        cell.addEventListener("click", () => {
          model.set("selected_layer", name);
          model.save_changes();
        });
        return cell;
      }),
    );
    root.dataset.renderCount = String(++renderCount);
    root.dataset.stds = Array.from(stds, (v) => v.toPrecision(6)).join(",");
  };

  const events = "change:distributions change:selected_layer change:message";
  const redraw = coalesce(draw);
  model.on(events, redraw);
  draw();
  return () => model.off(events, redraw);
}

export default { render };
