// Importance view: permutation importance bars with whiskers; ICE small multiples for the row.
import "./importance.css";
import { decodeArray } from "./lib/array.js";
import { orderByMagnitude } from "./lib/diverging_bars.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { extent, linearScale, matrixRow, pathData, svg } from "./lib/svg.js";
import { readValues, valuesKey } from "./lib/values.js";

const ROW_H = 18;
const LABEL_W = 150;
const BAR_W = 220;

function permutationBars(names, mean, std, shown = []) {
  const order = orderByMagnitude(mean);
  const height = order.length * ROW_H + 4;
  const plot = svg("svg", { viewBox: `0 0 ${LABEL_W + BAR_W + 10} ${height}`, role: "img" });
  let hi = 0;
  for (let j = 0; j < mean.length; j++) hi = Math.max(hi, mean[j] + std[j], 0);
  const [lo] = extent(Array.from(mean, (m, j) => Math.min(0, m - std[j])));
  const x = linearScale([Math.min(lo, 0), hi || 1], [LABEL_W, LABEL_W + BAR_W]);
  order.forEach((j, k) => {
    const y = 2 + k * ROW_H;
    plot.appendChild(svg("text", { class: "nnw-perm-label", x: LABEL_W - 6, y: y + 12, "text-anchor": "end" }, names[j]));
    const x0 = x(Math.min(0, mean[j]));
    const bar = svg("rect", { class: "nnw-perm-bar", x: x0, y: y + 3, width: Math.abs(x(mean[j]) - x(0)), height: ROW_H - 6 });
    bar.appendChild(svg("title", {}, `${names[j]}: drop ${mean[j].toPrecision(4)} ± ${std[j].toPrecision(3)}`));
    bar.dataset.feature = String(j);
    if (shown.includes(j)) bar.classList.add("nnw-ice-shown");
    plot.append(bar, svg("line", { class: "nnw-whisker", x1: x(mean[j] - std[j]), x2: x(mean[j] + std[j]), y1: y + ROW_H / 2, y2: y + ROW_H / 2 }));
  });
  return plot;
}

function icePlot(grid, current, background, value) {
  const W = 150;
  const H = 70;
  const plot = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const x = linearScale([grid[0], grid[grid.length - 1]], [3, W - 3]);
  const y = linearScale(extent(current, background), [H - 3, 3]);
  const points = grid.length;
  for (let r = 0; r < background.length / points; r++) {
    plot.appendChild(svg("path", { class: "nnw-ice-other", d: pathData(grid, background.subarray(r * points, (r + 1) * points), x, y) }));
  }
  plot.appendChild(svg("path", { class: "nnw-ice-current", d: pathData(grid, current, x, y) }));
  const cx = x(Math.min(grid[grid.length - 1], Math.max(grid[0], value)));
  plot.appendChild(svg("line", { class: "nnw-marker-line", x1: cx, x2: cx, y1: 0, y2: H, stroke: "currentColor", "stroke-dasharray": "2 2" }));
  return plot;
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-importance");
  const head = el("div", "nnw-controls");
  const busy = busyIndicator();
  const metric = el("select", "nnw-metric");
  metric.setAttribute("aria-label", "metric");
  const repeats = Object.assign(el("input", "nnw-repeats"), { type: "number", min: 1, step: 1 });
  repeats.setAttribute("aria-label", "repeats");
  head.append(el("span", "nnw-title", "Permutation importance"), metric, el("span", "", "repeats"), repeats, busy);
  const perm = el("div", "nnw-perm nnw-stale");
  const baseline = el("div", "nnw-meta");
  const iceTitle = el("div", "nnw-section-title", "Sensitivity of this row (ICE)");
  const iceGrid = el("div", "nnw-ice-grid");
  const ice = el("div");
  ice.append(iceTitle, el("div", "nnw-meta", "red: this row as one feature moves across its range; grey: 30 other rows"), iceGrid);
  const left = el("div");
  left.append(head, baseline, perm);
  const body = el("div", "nnw-importance-body");
  body.append(left, ice);
  const message = el("div", "nnw-message nnw-error");
  root.append(body, message);
  host.appendChild(root);
  const names = model.get("features").names;
  let renderCount = 0;

  metric.addEventListener("change", () => {
    model.set("metric", metric.value);
    model.save_changes();
  });
  repeats.addEventListener("change", () => {
    const n = Math.max(1, Math.round(Number(repeats.value)));
    model.set("repeats", n);
    model.save_changes();
  });

  const draw = () => {
    metric.replaceChildren(...model.get("metrics").map((m) => Object.assign(el("option", "", m), { value: m })));
    metric.value = model.get("metric");
    repeats.value = String(model.get("repeats"));
    showStatus(model, root, busy, message);
    const imp = model.get("importance");
    if (imp && imp.mean) {
      const mean = decodeArray(imp.mean);
      perm.replaceChildren(permutationBars(names, mean, decodeArray(imp.std), model.get("ice_features")));
      baseline.textContent = `${imp.metric} ${imp.labels ? "against the labels" : "against the model's own predictions"}: ${imp.baseline.toPrecision(4)} unshuffled · ${imp.rows.toLocaleString()}${imp.total_rows > imp.rows ? ` of ${imp.total_rows.toLocaleString()}` : ""} rows × ${imp.repeats} repeats`;
      root.dataset.importance = Array.from(mean, (m) => m.toPrecision(6)).join(",");
    }
    const s = model.get("ice");
    if (s && s.grid) {
      const grid = decodeArray(s.grid);
      const current = decodeArray(s.current);
      const background = decodeArray(s.background);
      const [d, points] = s.grid.shape;
      const rows = s.background.shape[1];
      const shown = s.features ? decodeArray(s.features) : Int32Array.from({ length: d }, (_, j) => j);
      const values = readValues(model);
      const cells = [];
      for (let k = 0; k < d; k++) {
        const j = shown[k];
        const cell = el("div", "nnw-ice");
        cell.dataset.feature = String(j);
        cell.append(el("div", "nnw-curve-title", names[j]),
          icePlot(matrixRow(grid, s.grid.shape, k), matrixRow(current, s.current.shape, k), background.subarray(k * rows * points, (k + 1) * rows * points), values[j]));
        cells.push(cell);
      }
      iceGrid.replaceChildren(...cells);
      root.dataset.forValues = valuesKey(decodeArray(s.for_values));
    }
    root.dataset.renderCount = String(++renderCount);
  };

  // A click on a bar shows (or hides) that feature's ICE lines.
  perm.addEventListener("click", (event) => {
    const j = Number(event.target.closest?.("[data-feature]")?.dataset.feature);
    if (!Number.isInteger(j)) return;
    const shown = model.get("ice_features");
    model.set("ice_features", shown.includes(j) ? shown.filter((k) => k !== j) : [...shown, j]);
    model.save_changes();
  });

  const events = `change:importance change:ice change:metric change:metrics change:repeats change:ice_features`;
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
