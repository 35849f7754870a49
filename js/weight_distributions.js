// WeightDistributions view: per-layer weight histograms with PyTorch's default, Glorot and He
// initial distributions drawn over them.
import "./weight_distributions.css";
import { decodeArray } from "./lib/array.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { histogram } from "./lib/histogram.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { matrixRow } from "./lib/svg.js";

const DASHES = ["", "5 2", "1.5 1.5"];
const MARKS = ["——", "– –", "···"];
const W = 250;
const H = 110;
const BIAS_H = 30;

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-distributions");
  const head = el("div", "nnw-panel-head");
  const legend = el("span", "nnw-legend");
  const busy = busyIndicator();
  head.append(el("span", "nnw-title", "Weight distributions"), el("span", "nnw-meta", "vs initialisation:"), legend, busy);
  const grid = el("div", "nnw-dist-grid");
  const note = el("div", "nnw-message");
  const message = el("div", "nnw-message nnw-error");
  root.append(head, grid, note, message);
  host.appendChild(root);
  let renderCount = 0;

  const draw = () => {
    showStatus(model, root, busy, message);
    note.hidden = !model.get("message");
    note.textContent = model.get("message");
    const p = model.get("distributions");
    if (!p || !p.names || !p.names.length) return grid.replaceChildren();
    const INITS = Object.keys(p.expected);
    const colour = (k) => (p.colours || {})[k] || "currentColor";
    legend.replaceChildren(...INITS.map((k, j) => {
      const item = el("span", "nnw-meta", `${MARKS[j % MARKS.length]} ${k}`);
      item.style.color = colour(k);
      return item;
    }));
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
        const parts = [`std ${s[0].toPrecision(3)}`];
        INITS.forEach((k, j) => { if (Number.isFinite(s[j + 1])) parts.push(`${k} ${s[j + 1].toPrecision(3)}`); });
        const stats = el("div", "nnw-meta", parts.join(" · "));
        const curves = INITS.map((k, j) => ({ cls: "nnw-init", values: matrixRow(expected[k], p.expected[k].shape, i), j, k }))
          .filter((c) => Number.isFinite(c.values[0]));
        const picture = histogram(matrixRow(edges, p.edges.shape, i), matrixRow(counts, p.counts.shape, i), curves, W, H, "nnw-hist");
        picture.querySelectorAll("path.nnw-init").forEach((path, n) => {
          path.style.stroke = colour(curves[n].k);
          path.style.strokeDasharray = DASHES[curves[n].j % DASHES.length];
          path.dataset.init = curves[n].k;
        });
        cell.append(title, picture, stats);
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

  const events = `change:distributions change:selected_layer change:message`;
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
