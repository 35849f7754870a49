// TrainingMonitor view: metric curves, per-layer small multiples (log axes, 1e-3 reference for the
// update ratio), warnings, and a step slider that shows the selected layer's weights back in time.
// "Step k" everywhere is the model after optimizer step k (step 0: before training).
import "./training_monitor.css";
import { decodeArray } from "./lib/array.js";
import {
  finitePoints,
  logDomain,
  logScale,
  logTicks,
  nearestIndex,
  niceTicks,
  positionOfStep,
  stepAtPosition,
  tickLabel,
} from "./lib/axes.js";
import { drawCells, lutIndex, symmetricLimit } from "./lib/colormap.js";
import { busyIndicator, el, showStatus, STATUS_EVENTS, tooltip } from "./lib/dom.js";
import { formatCount, formatExact } from "./lib/format.js";
import { cellAt, cellSpan, fitLayout } from "./lib/heatmap_geometry.js";
import { announce, listen } from "./lib/lifecycle.js";
import { stepIndex } from "./lib/scales.js";
import { coalesce } from "./lib/schedule.js";
import { extent, linearScale, pathData, svg } from "./lib/svg.js";
import { throttle } from "./lib/values.js";

const STATS = [
  { key: "weight_norm", title: "weight norm", log: true },
  { key: "grad_norm", title: "gradient norm", log: true },
  { key: "update_ratio", title: "update / weight", log: true, reference: 1e-3 },
  { key: "dead_share", title: "dead units", log: false, share: true },
];
// Paul Tol's bright scheme (colour-blind safe).
const METRIC_COLOURS = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377"];
const CURVE = { width: 330, height: 150, left: 46, right: 10, top: 8, bottom: 26 };
const SMALL = { width: 150, height: 56, left: 34, right: 4, top: 4, bottom: 12 };
const SMALL_LAST = { ...SMALL, height: 68, bottom: 22 }; // the last row carries the step axis
const HEAT_MAX = 300;

const exact = (v) => (v === null || v === undefined ? "—" : formatExact(v, "float64"));
/** What a step number stands for: the model after that optimizer step. */
const afterStep = (step) => (step === 0 ? "before training" : `after optimizer step ${formatCount(step)}`);

/** A line chart with tick axes; returns the svg and a hover lookup (px → point). */
function lineChart(xs, ys, box, { log = false, share = false, reference = null, colour, cursor = null, xTicks = true }) {
  const { width, height, left, right, top, bottom } = box;
  const node = svg("svg", { width, height, class: "nnw-mon-chart" });
  const [px, py] = finitePoints(xs, ys, log);
  const xDomain = px.length ? [px[0], px[px.length - 1]] : [0, 1];
  const x = linearScale(xDomain, [left, width - right]);
  let yDomain;
  if (share) yDomain = [0, 1];
  else if (log) yDomain = logDomain(py, reference ? [reference] : []);
  else {
    yDomain = extent(py);
    if (yDomain[0] === yDomain[1]) yDomain = [yDomain[0] - 1, yDomain[1] + 1];
  }
  const y = log ? logScale(yDomain, [height - bottom, top]) : linearScale(yDomain, [height - bottom, top]);
  const axes = svg("g", { class: "nnw-mon-axis" });
  const few = height < 100 ? 2 : 4;
  const yTicks = log ? logTicks(...yDomain, few) : share ? [0, 0.5, 1] : niceTicks(...yDomain, few);
  for (const t of yTicks) {
    const ty = y(t);
    axes.append(svg("line", { x1: left - 3, x2: width - right, y1: ty, y2: ty, class: "nnw-mon-grid" }));
    axes.append(svg("text", { x: left - 5, y: ty + 3, "text-anchor": "end" }, share ? `${Math.round(t * 100)}%` : tickLabel(t, log)));
  }
  axes.append(svg("line", { x1: left, x2: left, y1: top, y2: height - bottom, class: "nnw-mon-spine" }));
  axes.append(svg("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, class: "nnw-mon-spine" }));
  if (xTicks && px.length) {
    for (const t of niceTicks(...xDomain, width < 200 ? 2 : 4).filter((v) => Number.isInteger(v))) {
      axes.append(svg("text", { x: x(t), y: height - bottom + 12, "text-anchor": "middle" }, tickLabel(t)));
    }
  }
  node.append(axes);
  if (reference !== null && reference >= yDomain[0] && reference <= yDomain[1]) {
    node.append(svg("line", { x1: left, x2: width - right, y1: y(reference), y2: y(reference), class: "nnw-mon-reference" }));
  }
  if (cursor !== null && cursor >= xDomain[0] && cursor <= xDomain[1]) {
    node.append(svg("line", { x1: x(cursor), x2: x(cursor), y1: top, y2: height - bottom, class: "nnw-mon-cursor" }));
  }
  if (px.length) {
    const path = svg("path", { d: pathData(px, py, x, y), fill: "none", "stroke-width": 1.4 });
    path.style.stroke = colour; // a style, not an attribute: colours may be CSS variables
    node.append(path);
    if (px.length === 1) {
      const dot = svg("circle", { cx: x(px[0]), cy: y(py[0]), r: 2.5 });
      dot.style.fill = colour;
      node.append(dot);
    }
  }
  const hover = svg("rect", { x: left, y: top, width: width - left - right, height: height - top - bottom, class: "nnw-mon-hover" });
  node.append(hover);
  const lookup = (clientX) => {
    if (!px.length) return null;
    const rect = node.getBoundingClientRect();
    const sx = ((clientX - rect.left) * width) / (rect.width || width);
    const step = xDomain[0] + ((sx - left) / (width - left - right)) * (xDomain[1] - xDomain[0]);
    const i = nearestIndex(px, step);
    return { step: px[i], value: py[i] };
  };
  return { node, lookup, points: px.length };
}

function decodeLayerStats(payload) {
  if (!payload || !payload.steps) return null;
  const steps = Array.from(decodeArray(payload.steps));
  const out = { layers: payload.layers, steps };
  for (const { key } of STATS) {
    const values = decodeArray(payload[key]);
    out[key] = payload.layers.map((_, i) => values.subarray(i * steps.length, (i + 1) * steps.length));
  }
  return out;
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-monitor");
  const head = el("div", "nnw-controls");
  const title = el("span", "nnw-title", "Training monitor");
  const summary = el("span", "nnw-mon-summary");
  const indicator = busyIndicator();
  head.append(title, summary, indicator);
  const errorBox = el("div", "nnw-message nnw-error");
  const warningsBox = el("ul", "nnw-mon-warnings");
  warningsBox.setAttribute("aria-label", "training warnings");
  const curvesBox = el("div", "nnw-mon-curves");
  const body = el("div", "nnw-mon-body");
  const layersBox = el("div", "nnw-mon-layers");
  layersBox.tabIndex = 0;
  layersBox.setAttribute("role", "listbox");
  layersBox.setAttribute("aria-label", "layers: ↑/↓ selects a layer");
  const scrub = el("div", "nnw-mon-scrub");
  const sliderLabel = el("label", "nnw-mon-slider-label");
  const sliderText = el("span", "nnw-mon-step-text");
  const slider = el("input", "nnw-mon-slider");
  slider.type = "range";
  slider.min = "0";
  slider.step = "1";
  slider.setAttribute("aria-label", "training step shown (the model after that optimizer step)");
  sliderLabel.append(sliderText, slider);
  const heatTitle = el("div", "nnw-mon-heat-title");
  const stage = el("div", "nnw-mon-heat-stage");
  const canvas = el("canvas", "nnw-mon-heat-canvas");
  stage.append(canvas);
  const bar = el("div", "nnw-colorbar");
  const barMin = el("span");
  const barCanvas = el("canvas");
  const barMax = el("span");
  bar.append(barMin, barCanvas, barMax);
  const heatNote = el("div", "nnw-mon-note");
  const statsTable = el("table", "nnw-mon-stats");
  const message = el("div", "nnw-message");
  scrub.append(sliderLabel, heatTitle, stage, bar, heatNote, statsTable, message);
  body.append(layersBox, scrub);
  const empty = el("div", "nnw-message", "Nothing recorded yet: train the model (optimizer.step()) or call monitor.log(loss=...).");
  root.append(head, errorBox, warningsBox, curvesBox, empty, body);
  host.appendChild(root);
  const tip = tooltip(root);
  let renderCount = 0;
  let heatCount = 0;

  const showTip = (lines, event) => {
    const box = root.getBoundingClientRect();
    tip.show(lines, event.clientX - box.left, event.clientY - box.top);
  };
  const hoverable = (chart, label) => {
    chart.node.addEventListener("mousemove", (event) => {
      const p = chart.lookup(event.clientX);
      if (!p) return tip.hide();
      showTip([...label, `step ${formatCount(p.step)}`, exact(p.value)], event);
    });
    chart.node.addEventListener("mouseleave", () => tip.hide());
  };

  const select = (name) => {
    if (name === model.get("selected_layer")) return;
    model.set("selected_layer", name);
    model.save_changes();
  };
  const sendStep = throttle((step) => {
    model.set("step", step);
    model.save_changes();
  }, 120);
  const snapshotSteps = () => {
    const payload = model.get("snapshot_steps");
    return payload && payload.buffer ? Array.from(decodeArray(payload)) : [];
  };

  const drawWarnings = () => {
    const warnings = model.get("alerts") || [];
    warningsBox.hidden = !warnings.length;
    warningsBox.replaceChildren(
      ...warnings.map((w) => {
        const item = el("li", "nnw-mon-warning");
        item.dataset.kind = w.kind;
        const button = el("button", "nnw-mon-warning-layer", w.layer || "(model)");
        button.type = "button";
        button.title = "select this layer";
        button.addEventListener("click", () => select(w.layer));
        item.append(el("span", "nnw-mon-warning-mark", "⚠"), button, el("span", "nnw-mon-warning-step", `step ${formatCount(w.step)}`),
          el("span", "nnw-mon-warning-text", w.text));
        return item;
      }),
    );
    root.dataset.warnings = warnings.map((w) => `${w.kind}:${w.layer}`).join(" ");
  };

  const drawCurves = () => {
    const curves = model.get("curves") || {};
    const names = curves.names || [];
    const cursor = model.get("step") >= 0 ? (model.get("heatmap") || {}).step ?? null : null;
    curvesBox.replaceChildren(
      ...names.map((name, i) => {
        const series = curves.series[i];
        const xs = Array.from(decodeArray(series.steps));
        const ys = Array.from(decodeArray(series.values));
        const chart = lineChart(xs, ys, CURVE, { colour: METRIC_COLOURS[i % METRIC_COLOURS.length], cursor });
        hoverable(chart, [name]);
        const box = el("figure", "nnw-mon-curve");
        box.dataset.name = name;
        box.dataset.points = String(chart.points);
        const caption = el("figcaption", "", name);
        const last = ys.length ? ys[ys.length - 1] : null;
        caption.append(el("span", "nnw-mon-last", last === null ? "" : `  ${exact(last)}`));
        box.append(caption, chart.node);
        return box;
      }),
    );
    root.dataset.metrics = names.join(",");
    root.dataset.lossPoints = String(names.includes("loss") ? curvesBox.querySelector("[data-name='loss']").dataset.points : 0);
  };

  const drawLayers = () => {
    const stats = decodeLayerStats(model.get("layer_stats"));
    const selected = model.get("selected_layer");
    const warned = new Set((model.get("alerts") || []).map((w) => w.layer));
    const cursor = model.get("step") >= 0 ? (model.get("heatmap") || {}).step ?? null : null;
    if (!stats || !stats.layers.length) {
      layersBox.replaceChildren();
      return;
    }
    const shown = STATS.filter((s) => stats[s.key].some((row) => row.some((v) => Number.isFinite(v))) || s.key !== "dead_share");
    layersBox.style.gridTemplateColumns = `minmax(60px, max-content) repeat(${shown.length}, ${SMALL.width}px)`;
    const header = el("div", "nnw-mon-layer-row nnw-mon-layer-head");
    header.append(el("span", "", "layer"), ...shown.map((s) => el("span", "", s.title + (s.reference ? " (— 1e-3)" : ""))));
    const rows = stats.layers.map((name, i) => {
      const row = el("div", "nnw-mon-layer-row");
      row.setAttribute("role", "option");
      row.setAttribute("aria-selected", String(name === selected));
      row.dataset.layer = name;
      row.classList.toggle("nnw-selected", name === selected);
      const label = el("span", "nnw-mon-layer-name", name || "(model)");
      if (warned.has(name)) label.append(el("span", "nnw-mon-warning-mark", " ⚠"));
      row.append(label);
      for (const s of shown) {
        const last = i === stats.layers.length - 1;
        const chart = lineChart(stats.steps, stats[s.key][i], last ? SMALL_LAST : SMALL, {
          log: s.log, share: s.share, reference: s.reference ?? null, colour: name === selected ? "var(--nnw-selected)" : "var(--nnw-bar)",
          cursor, xTicks: last,
        });
        hoverable(chart, [`${name || "(model)"} · ${s.title}`]);
        row.append(chart.node);
      }
      row.addEventListener("click", () => select(name));
      return row;
    });
    layersBox.replaceChildren(header, ...rows);
    layersBox.setAttribute("aria-activedescendant", "");
  };

  const drawColorbar = (lut, heat, limit) => {
    barCanvas.width = 128;
    barCanvas.height = 1;
    const ctx = barCanvas.getContext("2d");
    const image = ctx.createImageData(128, 1);
    const size = lut.length / 3;
    for (let i = 0; i < 128; i++) {
      const value = heat.min + ((heat.max - heat.min) * (i + 0.5)) / 128;
      const k = Math.max(0, lutIndex(value, limit, size));
      image.data.set([lut[3 * k], lut[3 * k + 1], lut[3 * k + 2], 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
    barMin.textContent = `min ${formatExact(heat.min, "float32")}`;
    barMax.textContent = `max ${formatExact(heat.max, "float32")}`;
  };

  let heat = null;
  let heatValues = null;
  let heatLayout = null;
  const drawHeat = () => {
    const steps = snapshotSteps();
    const step = model.get("step");
    slider.max = String(steps.length);
    slider.value = String(positionOfStep(steps, step));
    slider.disabled = !steps.length;
    heat = model.get("heatmap") || {};
    const showing = Boolean(heat.values);
    const shownStep = showing ? heat.step : step < 0 ? model.get("total_steps") : step;
    sliderText.textContent = step < 0
      ? `step ${formatCount(shownStep)} (latest) `
      : `step ${formatCount(shownStep)} of ${formatCount(model.get("total_steps"))} `;
    sliderText.title = `the model ${afterStep(shownStep)}`;
    for (const node of [stage, bar, heatNote]) node.hidden = !showing;
    message.hidden = !model.get("message");
    message.textContent = model.get("message");
    const layer = model.get("selected_layer");
    heatTitle.textContent = showing ? `${layer || "(model)"}.${heat.parameter}` : layer || "(model)";
    const stats = model.get("step_stats") || {};
    statsTable.replaceChildren(
      ...STATS.filter((s) => stats[s.key] !== undefined && !(s.key === "dead_share" && stats[s.key] === null)).map((s) => {
        const tr = el("tr");
        const at = stats[`${s.key}_step`];
        tr.append(el("th", "", s.title), el("td", "", s.share && stats[s.key] !== null ? `${(stats[s.key] * 100).toFixed(1)} %` : exact(stats[s.key])),
          el("td", "nnw-mon-note", at === null || at === undefined ? "" : `at step ${formatCount(at)}`));
        return tr;
      }),
    );
    if (!showing) {
      heat = null;
      root.dataset.heatStep = "";
      return;
    }
    heatValues = decodeArray(heat.values);
    const [rows, cols] = heat.values.shape;
    heatLayout = fitLayout(rows, cols, HEAT_MAX, HEAT_MAX, 24);
    const lut = decodeArray(model.get("colormap"));
    const limit = symmetricLimit(heat.min, heat.max);
    drawCells(canvas, heatValues, rows, cols, heatLayout, lut, limit);
    drawColorbar(lut, heat, limit);
    const [mr, mc] = heat.shape;
    heatNote.textContent = `${formatCount(mr)}×${formatCount(mc)} ${heat.dtype}` +
      (heat.block_rows === 1 && heat.block_cols === 1 ? " · exact" : ` · each cell: signed extreme of a ${heat.block_rows}×${heat.block_cols} block`) +
      (heat.live ? ` · now (${afterStep(heat.step)})` : ` · as at step ${formatCount(heat.step)} (${afterStep(heat.step)})`);
    root.dataset.heatStep = String(heat.step);
    root.dataset.heatLive = String(heat.live);
    root.dataset.heatChecksum = String(heat.checksum);
    root.dataset.heatCount = String(++heatCount);
  };

  canvas.addEventListener("mousemove", (event) => {
    if (!heat || !heatLayout) return;
    const rect = canvas.getBoundingClientRect();
    const cell = cellAt(heatLayout, ((event.clientX - rect.left) * heatLayout.width) / rect.width,
      ((event.clientY - rect.top) * heatLayout.height) / rect.height);
    if (!cell) return tip.hide();
    const span = cellSpan(heat, cell);
    const value = formatExact(heatValues[cell.row * heatLayout.cols + cell.col], "float32");
    const where = span.row1 - span.row0 === 1 && span.col1 - span.col0 === 1
      ? `row ${span.row0}, col ${span.col0}`
      : `rows ${span.row0}–${span.row1 - 1}, cols ${span.col0}–${span.col1 - 1}`;
    showTip([where, `${heat.block_rows * heat.block_cols > 1 ? "largest |w| in block" : "weight"}: ${value}`,
      heat.live ? `now (${afterStep(heat.step)})` : `step ${formatCount(heat.step)} (${afterStep(heat.step)})`], event);
  });
  canvas.addEventListener("mouseleave", () => tip.hide());

  slider.addEventListener("input", () => {
    const steps = snapshotSteps();
    const step = stepAtPosition(steps, Number(slider.value));
    sliderText.textContent = step < 0 ? "step (latest) " : `step ${formatCount(step)} `;
    sendStep(step);
  });
  layersBox.addEventListener("keydown", (event) => {
    const names = model.get("layers") || [];
    const delta = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
    if (delta === undefined || !names.length) return;
    event.preventDefault();
    const i = stepIndex(names.indexOf(model.get("selected_layer")), delta, names.length);
    select(names[i]);
  });

  const drawSummary = () => {
    const s = model.get("summary") || {};
    const parts = [`${formatCount(s.steps ?? 0)} steps`, `${formatCount(s.samples ?? 0)} sampled`,
      `${formatCount(s.snapshots ?? 0)} pictures`, `${((s.memory_bytes ?? 0) / 1e6).toFixed(1)} MB`];
    if (Number.isFinite(s.overhead)) parts.push(`statistics ${(s.overhead * 100).toFixed(2)} % of the time`);
    summary.textContent = parts.join(" · ");
    summary.title = s.dead_units || "";
    root.dataset.totalSteps = String(s.steps ?? 0);
  };

  const draw = () => {
    const anything = (model.get("curves")?.names || []).length || (model.get("summary")?.samples ?? 0) > 0;
    empty.hidden = Boolean(anything);
    drawSummary();
    drawWarnings();
    drawCurves();
    drawLayers();
    drawHeat();
    root.dataset.renderCount = String(++renderCount);
  };
  const status = () => showStatus(model, root, indicator, errorBox);
  const redraw = coalesce(draw);
  const events = "change:curves change:layer_stats change:alerts change:summary change:heatmap change:step_stats " +
    "change:selected_layer change:snapshot_steps change:message change:step change:total_steps";
  const unlisten = listen(model, events, redraw);
  const unlistenStatus = listen(model, STATUS_EVENTS, status);
  status();
  draw();
  return announce(model, signal, () => {
    unlisten();
    unlistenStatus();
  }, host);
}

export default { render };
