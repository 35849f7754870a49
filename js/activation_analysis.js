// ActivationAnalysis view: per activation layer, inputs with the function's curve, outputs, flags.
import "./activation_analysis.css";
import { decodeArray } from "./lib/array.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { histogram } from "./lib/histogram.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { extent, matrixRow } from "./lib/svg.js";

const W = 280;

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-activation-analysis");
  const head = el("div", "nnw-panel-head");
  const rows = el("span", "nnw-meta");
  const busy = busyIndicator();
  head.append(el("span", "nnw-title", "Activation functions over the data"),
    el("span", "nnw-meta", "grey: values going in, with the function's curve; blue: values coming out"), rows, busy);
  const grid = el("div", "nnw-aa-grid");
  const note = el("div", "nnw-message");
  const message = el("div", "nnw-message nnw-error");
  root.append(head, grid, note, message);
  host.appendChild(root);
  let renderCount = 0;

  const draw = () => {
    showStatus(model, root, busy, message);
    note.hidden = !model.get("message");
    note.textContent = model.get("message");
    const p = model.get("analysis");
    if (!p || !p.names || !p.names.length) return grid.replaceChildren();
    rows.textContent = p.histogram_rows < p.rows
      ? `· histograms from a sample of ${p.histogram_rows.toLocaleString()} of ${p.rows.toLocaleString()} rows; flags over all rows`
      : `· all ${p.rows.toLocaleString()} rows`;
    const row = (key, i) => matrixRow(decodeArray(p[key]), p[key].shape, i);
    const dead = decodeArray(p.dead);
    const saturated = decodeArray(p.saturated);
    const selected = model.get("selected_layer");
    grid.replaceChildren(
      ...p.names.map((name, i) => {
        const cell = el("div", `nnw-card nnw-aa${name === selected ? " nnw-selected" : ""}`);
        cell.dataset.name = name;
        const curveY = row("curve_y", i);
        const title = el("div", "nnw-curve-title");
        title.append(el("b", "", name), el("span", "nnw-meta", ` ${p.types[i]}`));
        const flags = el("div", "nnw-meta nnw-aa-flags", `${(dead[i] * 100).toFixed(0)}% of units dead · ${(saturated[i] * 100).toFixed(0)}% saturated`);
        const curveNote = p.curve_notes[i] ? el("div", "nnw-meta", p.curve_notes[i]) : "";
        cell.append(
          title,
          histogram(row("pre_edges", i), row("pre_counts", i), [{ cls: "nnw-act-curve", xs: row("curve_x", i), values: curveY, yDomain: extent(curveY) }], W, 90, "nnw-hist"),
          el("div", "nnw-meta", "output"),
          histogram(row("post_edges", i), row("post_counts", i), [], W, 50, "nnw-hist-post"),
          flags,
          curveNote,
        );
        cell.addEventListener("click", () => {
          model.set("selected_layer", name);
          model.save_changes();
        });
        return cell;
      }),
    );
    root.dataset.dead = Array.from(dead, (d) => d.toFixed(4)).join(",");
    root.dataset.renderCount = String(++renderCount);
  };

  const events = `change:analysis change:selected_layer change:message`;
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
