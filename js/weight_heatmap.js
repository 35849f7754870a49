// WeightHeatmap view: canvas heatmap, hover for exact values, drag a box to zoom, double-click resets.
import "./weight_heatmap.css";
import { decodeArray } from "./lib/array.js";
import { drawCells, lutIndex, symmetricLimit } from "./lib/colormap.js";
import { el, tooltip } from "./lib/dom.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { formatCount, formatExact } from "./lib/format.js";
import { cellAt, cellSpan, dragRegion, fitLayout } from "./lib/heatmap_geometry.js";

const MAX_WIDTH = 520;
const MAX_HEIGHT = 420;
const DRAG_THRESHOLD_PX = 4;

function hoverLines(heat, values, layout, cell) {
  const span = cellSpan(heat, cell);
  const value = formatExact(values[cell.row * layout.cols + cell.col], heat.values.dtype === "float64" ? "float64" : "float32");
  if (heat.block_rows === 1 && heat.block_cols === 1) {
    return [`row ${span.row0}, col ${span.col0}`, `weight ${value}`];
  }
  return [
    `rows ${span.row0}–${span.row1 - 1}, cols ${span.col0}–${span.col1 - 1}`,
    `largest |w| in block: ${value}`,
    "drag a box to zoom in for exact values",
  ];
}

function describe(heat) {
  const [rows, cols] = heat.shape;
  const [r0, r1, c0, c1] = heat.region;
  const whole = r0 === 0 && c0 === 0 && r1 === rows && c1 === cols;
  const parts = [`${formatCount(rows)}×${formatCount(cols)} ${heat.dtype}`];
  if (!whole) parts.push(`zoomed: rows ${r0}–${r1 - 1}, cols ${c0}–${c1 - 1}`);
  parts.push(
    heat.block_rows === 1 && heat.block_cols === 1
      ? "full resolution"
      : `each cell: signed extreme of a ${heat.block_rows}×${heat.block_cols} block`,
  );
  return parts.join(" · ");
}

function drawColorbar(canvas, lut, heat, limit) {
  const width = 256;
  canvas.width = width;
  canvas.height = 1;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, 1);
  const size = lut.length / 3;
  const lo = heat.min ?? 0;
  const hi = heat.max ?? 0;
  for (let x = 0; x < width; x++) {
    const value = lo + ((hi - lo) * (x + 0.5)) / width;
    const k = Math.max(0, lutIndex(value, limit, size));
    image.data.set([lut[3 * k], lut[3 * k + 1], lut[3 * k + 2], 255], 4 * x);
  }
  ctx.putImageData(image, 0, 0);
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-heatmap");
  const head = el("div", "nnw-controls");
  const title = el("span", "nnw-title");
  const paramLabel = el("label", "", "parameter ");
  const paramSelect = el("select", "nnw-parameter");
  paramLabel.appendChild(paramSelect);
  const reset = el("button", "nnw-reset", "reset zoom");
  reset.type = "button";
  head.append(title, paramLabel, reset);
  const status = el("div", "nnw-heat-status");
  const colLabel = el("div", "nnw-heat-axis");
  const stage = el("div", "nnw-heat-stage");
  stage.tabIndex = 0;
  stage.setAttribute("aria-label", "weight heatmap; drag to zoom, double-click or Escape to reset");
  const canvas = el("canvas", "nnw-heat-canvas");
  const box = el("div", "nnw-heat-box");
  box.hidden = true;
  stage.append(canvas, box);
  const rowLabel = el("div", "nnw-heat-axis");
  const bar = el("div", "nnw-colorbar");
  const barMin = el("span", "nnw-colorbar-min");
  const barCanvas = el("canvas");
  const barMax = el("span", "nnw-colorbar-max");
  bar.append(barMin, barCanvas, barMax);
  const message = el("div", "nnw-message");
  root.append(head, status, colLabel, stage, rowLabel, bar, message);
  host.appendChild(root);
  const tip = tooltip(root);

  let heat = null;
  let values = null;
  let layout = null;
  let drag = null;
  let renderCount = 0;

  const setRegion = (region) => {
    model.set("region", region);
    model.save_changes();
  };

  const draw = () => {
    const params = model.get("parameters");
    paramSelect.replaceChildren(...params.map((p) => Object.assign(el("option", "", p), { value: p })));
    paramSelect.value = model.get("parameter");
    paramLabel.hidden = params.length < 2;
    heat = model.get("heatmap");
    const text = model.get("message");
    const layer = model.get("layer");
    title.textContent = `${layer || "(model)"}${model.get("parameter") ? `.${model.get("parameter")}` : ""}`;
    const showing = Boolean(heat && heat.values);
    for (const node of [status, colLabel, stage, rowLabel, bar]) node.hidden = !showing;
    reset.hidden = !(model.get("region") || []).length;
    message.hidden = showing;
    message.textContent = text || "nothing to show";
    root.dataset.layer = layer;
    root.dataset.parameter = model.get("parameter");
    if (!showing) {
      heat = null;
      root.dataset.fullResolution = "";
      root.dataset.renderCount = String(++renderCount);
      return;
    }
    values = decodeArray(heat.values);
    const [rows, cols] = heat.values.shape;
    layout = fitLayout(rows, cols, MAX_WIDTH, MAX_HEIGHT);
    const lut = decodeArray(model.get("colormap"));
    const limit = symmetricLimit(heat.min, heat.max);
    drawCells(canvas, values, rows, cols, layout, lut, limit);
    drawColorbar(barCanvas, lut, heat, limit);
    barMin.textContent = `min ${formatExact(heat.min, heat.values.dtype)}`;
    barMax.textContent = `max ${formatExact(heat.max, heat.values.dtype)}`;
    status.textContent = describe(heat);
    colLabel.textContent = `→ ${heat.col_label}`;
    rowLabel.textContent = heat.row_label ? `↓ ${heat.row_label}` : "";
    root.dataset.fullResolution = String(heat.block_rows === 1 && heat.block_cols === 1);
    root.dataset.region = heat.region.join(",");
    root.dataset.renderCount = String(++renderCount);
    root.dataset.drawnAt = String(performance.now());
  };

  const pointer = (event) => {
    const rect = canvas.getBoundingClientRect();
    const scale = layout ? layout.width / rect.width : 1;
    return { x: (event.clientX - rect.left) * scale, y: (event.clientY - rect.top) * scale };
  };

  canvas.addEventListener("mousedown", (event) => {
    if (event.button !== 0 || !heat) return;
    event.preventDefault();
    drag = { start: pointer(event), end: pointer(event) };
    stage.focus({ preventScroll: true });
  });
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  function onMove(event) {
    if (!heat) return;
    const p = pointer(event);
    if (drag) {
      drag.end = p;
      const x = Math.min(drag.start.x, p.x);
      const y = Math.min(drag.start.y, p.y);
      Object.assign(box.style, {
        left: `${Math.max(0, x)}px`,
        top: `${Math.max(0, y)}px`,
        width: `${Math.min(layout.width, Math.max(drag.start.x, p.x)) - Math.max(0, x)}px`,
        height: `${Math.min(layout.height, Math.max(drag.start.y, p.y)) - Math.max(0, y)}px`,
      });
      box.hidden = false;
      tip.hide();
      return;
    }
    if (event.target !== canvas) return;
    const cell = cellAt(layout, p.x, p.y);
    if (!cell) return tip.hide();
    const host = root.getBoundingClientRect();
    tip.show(hoverLines(heat, values, layout, cell), event.clientX - host.left, event.clientY - host.top);
  }
  function onUp() {
    if (!drag) return;
    const { start, end } = drag;
    drag = null;
    box.hidden = true;
    if (Math.abs(end.x - start.x) < DRAG_THRESHOLD_PX && Math.abs(end.y - start.y) < DRAG_THRESHOLD_PX) return;
    setRegion(dragRegion(layout, heat, start.x, start.y, end.x, end.y));
  }
  canvas.addEventListener("mouseleave", () => tip.hide());
  canvas.addEventListener("dblclick", () => setRegion([]));
  reset.addEventListener("click", () => setRegion([]));
  stage.addEventListener("keydown", (event) => {
    if (event.key === "Escape" || event.key === "0") setRegion([]);
  });
  paramSelect.addEventListener("change", () => {
    model.set("parameter", paramSelect.value);
    model.save_changes();
  });

  const events = "change:heatmap change:message change:parameters change:parameter change:colormap";
  const redraw = coalesce(draw);
  const unlisten = listen(model, events, redraw);
  draw();
  return announce(model, signal, () => {
    unlisten();
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
  }, host);
}

export default { render };
