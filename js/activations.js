// Activations view: one block per layer; bars for small layers, a colour strip for wide ones.
import "./activations.css";
import { decodeActivity, count, isSelected } from "./lib/activity.js";
import { decodeArray } from "./lib/array.js";
import { paint } from "./lib/colormap.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus, tooltip } from "./lib/dom.js";
import { gridLayout, hitTest, mapValue, paintTiles, slotOrigin } from "./lib/feature_grid.js";
import { formatExact } from "./lib/format.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { svg } from "./lib/svg.js";
import { valuesKey } from "./lib/values.js";

const BAR_UNITS = 64;
const WIDTH = 520;
const HEIGHT = 44;

function unitBars(layer, limit) {
  const n = layer.values.length;
  const w = WIDTH / n;
  const plot = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img" });
  const mid = HEIGHT / 2;
  layer.values.forEach((v, i) => {
    const h = limit > 0 ? (Math.abs(v) / limit) * (mid - 2) : 0;
    const flags = `${layer.dead[i] ? " nnw-unit-dead" : ""}${layer.saturated[i] ? " nnw-unit-saturated" : ""}`;
    const rect = svg("rect", {
      class: `${v >= 0 ? "nnw-unit-pos" : "nnw-unit-neg"}${flags}`,
      x: i * w + 0.5, width: Math.max(w - 1, 0.5), y: v >= 0 ? mid - h : mid, height: layer.dead[i] ? mid - 2 : Math.max(h, 0.5),
    });
    rect.dataset.unit = String(i);
    rect.appendChild(svg("title", {}, `unit ${i}: ${formatExact(v, "float32")}${layer.dead[i] ? "\ndead: never active on the data" : ""}${layer.saturated[i] ? "\nsaturated on the data" : ""}`));
    plot.appendChild(rect);
  });
  return plot;
}

function unitStrip(layer, limit, lut, tip, root) {
  const n = layer.values.length;
  const canvas = el("canvas");
  canvas.width = n;
  canvas.height = 2;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(n, 2);
  paint(layer.values, limit, lut, image.data);
  for (let i = 0; i < n; i++) {
    const o = 4 * (n + i); // second row: flags (dark grey dead, black saturated)
    const shade = layer.dead[i] ? 110 : layer.saturated[i] ? 20 : 255;
    image.data.set([shade, shade, shade, 255], o);
  }
  ctx.putImageData(image, 0, 0);
  canvas.addEventListener("mousemove", (event) => {
    const rect = canvas.getBoundingClientRect();
    const i = Math.min(n - 1, Math.floor(((event.clientX - rect.left) / rect.width) * n));
    const host = root.getBoundingClientRect();
    const lines = [`unit ${i}: ${formatExact(layer.values[i], "float32")}`];
    if (layer.dead[i]) lines.push("dead: never active on the data");
    if (layer.saturated[i]) lines.push("saturated on the data");
    tip.show(lines, event.clientX - host.left, event.clientY - host.top);
  });
  canvas.addEventListener("mouseleave", () => tip.hide());
  return canvas;
}

function channelMaps(layer, limit, lut, tip, root) {
  const { channels, h, w, block } = layer.maps;
  const layout = gridLayout(channels, h, w, WIDTH, 28, 2);
  const canvas = el("canvas", "nnw-act-maps");
  paintTiles(canvas, layout, (k) => paint(layer.values.subarray(k * h * w, (k + 1) * h * w), limit, lut, new Uint8ClampedArray(h * w * 4)));
  const ctx = canvas.getContext("2d");
  for (let k = 0; k < channels; k++) {
    if (!layer.dead[k] && !layer.saturated[k]) continue;
    const { x, y } = slotOrigin(layout, k);
    ctx.strokeStyle = layer.dead[k] ? "#777777" : "#111111";
    ctx.lineWidth = 2;
    ctx.setLineDash(layer.dead[k] ? [3, 2] : []);
    ctx.strokeRect(x + 1, y + 1, layout.tileW - 2, layout.tileH - 2);
    if (layer.dead[k]) {
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + layout.tileW, y + layout.tileH);
      ctx.stroke();
    }
  }
  canvas.addEventListener("mousemove", (event) => {
    const rect = canvas.getBoundingClientRect();
    const hit = hitTest(layout, event.clientX - rect.left, event.clientY - rect.top);
    if (!hit) return tip.hide();
    const k = hit.slot;
    const host = root.getBoundingClientRect();
    const where = block > 1 ? ` (extreme of a ${block} × ${block} block)` : "";
    const lines = [`channel ${k}: ${formatExact(mapValue(layer.values, h, w, k, hit.row, hit.col), "float32")} at y ${hit.row * block}, x ${hit.col * block}${where}`];
    if (layer.dead[k]) lines.push("dead: zero on (nearly) every probe picture");
    if (layer.saturated[k]) lines.push("saturated on the probe pictures");
    tip.show(lines, event.clientX - host.left, event.clientY - host.top);
  });
  canvas.addEventListener("mouseleave", () => tip.hide());
  return canvas;
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-activations");
  const head = el("div", "nnw-panel-head");
  const busy = busyIndicator();
  head.append(el("span", "nnw-title", "Activations for the current values"),
    el("span", "nnw-meta", "bars above the line: positive; hatched outline: dead unit; dark edge: saturated"), busy);
  const list = el("div", "nnw-act-list nnw-stale");
  list.tabIndex = 0;
  list.setAttribute("aria-label", "layers; ↑/↓ change the selected layer");
  const message = el("div", "nnw-message nnw-error");
  root.append(head, list, message);
  host.appendChild(root);
  const tip = tooltip(root);
  let layers = [];
  let renderCount = 0;

  const select = (name) => {
    model.set("selected_layer", name);
    model.save_changes();
  };

  const draw = () => {
    showStatus(model, root, busy, message);
    const payload = model.get("activity");
    layers = decodeActivity(payload);
    if (!layers.length) return;
    const lut = decodeArray(model.get("colormap"));
    const selected = model.get("selected_layer");
    list.replaceChildren(
      ...layers.map((layer) => {
        let limit = 0;
        for (const v of layer.values) if (Number.isFinite(v)) limit = Math.max(limit, Math.abs(v));
        const block = el("div", `nnw-act-layer${isSelected(layer.name, selected) ? " nnw-selected" : ""}`);
        block.dataset.name = layer.name;
        const dead = count(layer.dead);
        const saturated = count(layer.saturated);
        const header = el("div", "nnw-act-head");
        const size = layer.maps ? `${layer.maps.channels} channels` : `${layer.values.length} units`;
        const per = layer.maps ? " channels" : "";
        header.append(el("span", "nnw-act-name", layer.name || "(model)"), el("span", "nnw-meta", `${layer.type} · ${size}`));
        if (dead) header.appendChild(el("span", "nnw-flag nnw-flag-dead", `${dead}${per} dead`));
        if (saturated) header.appendChild(el("span", "nnw-flag nnw-flag-saturated", `${saturated}${per} saturated`));
        const plot = layer.maps ? channelMaps(layer, limit, lut, tip, root)
          : layer.values.length <= BAR_UNITS ? unitBars(layer, limit) : unitStrip(layer, limit, lut, tip, root);
        block.append(header, plot);
        block.addEventListener("click", () => select(layer.name));
        return block;
      }),
    );
    const current = list.querySelector(".nnw-selected");
    if (current && document.activeElement === list) current.scrollIntoView({ block: "nearest" });
    root.dataset.forValues = valuesKey(decodeArray(payload.for_values));
    root.dataset.selected = selected;
    root.dataset.renderCount = String(++renderCount);
    root.dataset.drawnAt = String(performance.now());
  };

  list.addEventListener("keydown", (event) => {
    const moves = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1 };
    if (!(event.key in moves) || !layers.length) return;
    event.preventDefault();
    const names = layers.map((l) => l.name);
    const i = names.findIndex((n) => isSelected(n, model.get("selected_layer")));
    select(names[Math.min(names.length - 1, Math.max(0, (i < 0 ? 0 : i) + moves[event.key]))]);
  });

  const events = `change:activity change:selected_layer change:colormap`;
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
