// LayerBars view: one bar per layer; click or ←/→ selects; hover shows exact values.
import "./layer_bars.css";
import { el, tooltip } from "./lib/dom.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { formatCount, formatShort } from "./lib/format.js";
import { METRICS, decodeTable, displayName, metricValues } from "./lib/layer_table.js";
import { barLength, stepIndex } from "./lib/scales.js";

function tooltipLines(rows, i) {
  const size = (v) => (Number.isFinite(v) ? formatCount(v) : "?");
  const lines = [displayName(rows, i), `type      ${rows.types[i]}`, `in → out  ${size(rows.inSize[i])} → ${size(rows.outSize[i])}`];
  lines.push(`params    ${formatCount(rows.params[i])}`);
  lines.push(rows.hasWeights[i] ? `weight    ${rows.weightShapes[i]}` : "no weights");
  return lines;
}

function controls(model) {
  const bar = el("div", "nnw-controls");
  const metric = el("select", "nnw-metric");
  metric.setAttribute("aria-label", "bar length");
  for (const m of METRICS) metric.appendChild(Object.assign(el("option", "", m), { value: m }));
  const logLabel = el("label", "", " log scale");
  const log = Object.assign(el("input", "nnw-log"), { type: "checkbox" });
  logLabel.prepend(log);
  const depthLabel = el("label", "", "depth ");
  const depth = el("select", "nnw-depth");
  depthLabel.appendChild(depth);
  bar.append(el("span", "nnw-title", "Layers"), metric, logLabel, depthLabel);

  const commit = (name, value) => {
    model.set(name, value);
    model.save_changes();
  };
  metric.addEventListener("change", () => commit("metric", metric.value));
  log.addEventListener("change", () => commit("log_scale", log.checked));
  depth.addEventListener("change", () => commit("depth", Number(depth.value)));

  const sync = () => {
    metric.value = model.get("metric");
    log.checked = model.get("log_scale");
    const max = model.get("max_depth");
    depth.replaceChildren();
    for (let d = 1; d <= Math.max(max, 1); d++) {
      depth.appendChild(Object.assign(el("option", "", d === max ? `${d} (all)` : String(d)), { value: String(d) }));
    }
    depth.value = String(Math.min(Math.max(model.get("depth"), 1), Math.max(max, 1)));
    depthLabel.hidden = max <= 1;
  };
  return { node: bar, sync };
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-bars");
  const ui = controls(model);
  const list = el("div", "nnw-bars-list");
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "layers; arrow keys change the selection");
  list.tabIndex = 0;
  const empty = el("div", "nnw-message", "This model has no layers.");
  root.append(ui.node, list, empty);
  host.appendChild(root);
  const tip = tooltip(root);
  let rows = decodeTable(null);
  let renderCount = 0;

  const select = (i) => {
    if (i < 0 || i >= rows.length) return;
    model.set("selected_layer", rows.names[i]);
    model.save_changes();
  };

  const draw = () => {
    ui.sync();
    rows = decodeTable(model.get("table"));
    const selected = model.get("selected_layer");
    const log = model.get("log_scale");
    const values = metricValues(rows, model.get("metric"));
    let max = 0;
    for (const v of values) if (Number.isFinite(v) && v > max) max = v;
    const items = [];
    for (let i = 0; i < rows.length; i++) {
      const row = el("div", "nnw-bar-row");
      row.id = `${root.dataset.uid}-row-${i}`;
      row.dataset.index = String(i);
      row.dataset.name = rows.names[i];
      row.setAttribute("role", "option");
      const isSelected = rows.names[i] === selected;
      row.setAttribute("aria-selected", String(isSelected));
      if (isSelected) {
        row.classList.add("nnw-selected");
        list.setAttribute("aria-activedescendant", row.id);
      }
      if (!rows.hasWeights[i]) row.classList.add("nnw-no-weights");
      const track = el("div", "nnw-bar-track");
      const bar = el("div", "nnw-bar");
      bar.style.width = `${barLength(values[i], max, 100, log)}%`;
      track.appendChild(bar);
      row.append(el("div", "nnw-bar-name", displayName(rows, i)), track, el("div", "nnw-bar-value", formatShort(values[i])));
      items.push(row);
    }
    list.replaceChildren(...items);
    list.hidden = rows.length === 0;
    empty.hidden = rows.length > 0;
    root.dataset.selected = selected;
    root.dataset.renderCount = String(++renderCount);
    const current = list.querySelector(".nnw-selected .nnw-bar-name");
    if (current && current.scrollIntoView && document.activeElement === list) current.scrollIntoView({ block: "nearest" });
  };

  const rowIndex = (event) => {
    const row = event.target.closest?.(".nnw-bar-row");
    return row ? Number(row.dataset.index) : -1;
  };
  list.addEventListener("click", (event) => {
    const i = rowIndex(event);
    if (i >= 0) {
      list.focus({ preventScroll: true });
      select(i);
    }
  });
  list.addEventListener("mousemove", (event) => {
    const i = rowIndex(event);
    if (i < 0) return tip.hide();
    const box = root.getBoundingClientRect();
    tip.show(tooltipLines(rows, i), event.clientX - box.left, event.clientY - box.top);
  });
  list.addEventListener("mouseleave", () => tip.hide());
  list.addEventListener("keydown", (event) => {
    const current = rows.names.indexOf(model.get("selected_layer"));
    const moves = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1, Home: -Infinity, End: Infinity };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const delta = moves[event.key];
    const next = Number.isFinite(delta) ? stepIndex(current, delta, rows.length) : delta < 0 ? 0 : rows.length - 1;
    select(next);
  });

  root.dataset.uid = `nnw-bars-${Math.random().toString(36).slice(2, 9)}`;
  const events = "change:table change:metric change:log_scale change:selected_layer change:depth change:max_depth";
  const redraw = coalesce(draw);
  const unlisten = listen(model, events, redraw);
  draw();
  return announce(model, signal, unlisten, host);
}

export default { render };
