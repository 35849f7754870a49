// FeatureMaps view: first-layer filters as tiles; the selected layer's channel maps for the current picture
// as a grid of heatmaps (one canvas), sortable by mean; click or keys enlarge a map and select its unit.
import "./feature_maps.css";
import { decodeArray } from "./lib/array.js";
import { paint } from "./lib/colormap.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus, tooltip } from "./lib/dom.js";
import { channelOrder, filterPixels, gridLayout, hitTest, mapValue, moveSlot, paintTiles, slotOrigin } from "./lib/feature_grid.js";
import { formatExact } from "./lib/format.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";

const GRID_WIDTH = 640;
const ENLARGED = 220;

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-feature-maps");
  const head = el("div", "nnw-panel-head");
  const busy = busyIndicator();
  const layerSelect = el("select", "nnw-fm-layer");
  layerSelect.setAttribute("aria-label", "layer");
  const sortBox = el("input");
  sortBox.type = "checkbox";
  const sortLabel = el("label", "nnw-meta");
  sortLabel.append(sortBox, el("span", "", " sort by mean activation"));
  head.append(el("span", "nnw-title", "Feature maps"), layerSelect, sortLabel, busy);
  const filterHead = el("div", "nnw-meta nnw-fm-filters-head");
  const filterCanvas = el("canvas", "nnw-fm-filters");
  const mapsHead = el("div", "nnw-meta nnw-fm-maps-head");
  const gridBox = el("div", "nnw-fm-grid nnw-stale");
  gridBox.tabIndex = 0;
  gridBox.setAttribute("role", "listbox");
  gridBox.setAttribute("aria-label", "channel maps; arrow keys move, Enter enlarges and selects the unit, Escape clears");
  const gridCanvas = el("canvas");
  const focusBox = el("div", "nnw-fm-box nnw-fm-focus");
  const selectedBox = el("div", "nnw-fm-box nnw-fm-selected");
  gridBox.append(gridCanvas, selectedBox, focusBox);
  const bigBox = el("div", "nnw-fm-enlarged");
  const bigCanvas = el("canvas");
  const bigCaption = el("div", "nnw-meta");
  bigBox.append(bigCanvas, bigCaption);
  const body = el("div", "nnw-fm-body");
  body.append(gridBox, bigBox);
  const message = el("div", "nnw-message nnw-error");
  root.append(head, filterHead, filterCanvas, mapsHead, body, message);
  host.appendChild(root);
  const tip = tooltip(root);
  let state = null; // what the grid shows: maps, order, layout
  let focus = -1;
  let renderCount = 0;

  const setUnit = (unit) => {
    model.set("unit", unit);
    model.save_changes();
  };

  const placeBox = (box, slot) => {
    box.hidden = !state || slot < 0 || slot >= state.layout.n;
    if (box.hidden) return;
    const { x, y } = slotOrigin(state.layout, slot);
    Object.assign(box.style, { left: `${x}px`, top: `${y}px`, width: `${state.layout.tileW}px`, height: `${state.layout.tileH}px` });
  };

  const drawLayers = () => {
    const layers = model.get("layers") || [];
    const selected = model.get("selected_layer");
    const options = layers.map((layer) => {
      const option = el("option", "", `${layer.name} (${layer.type}, ${layer.shape.join("×")})`);
      option.value = layer.name;
      return option;
    });
    if (!layers.some((l) => l.name === selected)) {
      const option = el("option", "", `${selected || "(model)"}: no channel maps`);
      option.value = selected;
      option.disabled = true;
      options.unshift(option);
    }
    layerSelect.replaceChildren(...options);
    layerSelect.value = selected;
  };

  const drawFilters = () => {
    const filters = model.get("filters") || {};
    if (!filters.values) {
      filterHead.textContent = filters.message || "";
      filterCanvas.hidden = true;
      return;
    }
    const [out, inC, kh, kw] = filters.values.shape;
    const weights = decodeArray(filters.values);
    const lut = decodeArray(model.get("colormap"));
    filterHead.textContent = `first-layer filters: ${filters.layer} (${filters.type}), ${out} × ${inC} × ${kh} × ${kw}${inC === 3 ? " as colour" : inC > 1 ? ", mean over inputs" : ""}`;
    const layout = gridLayout(out, kh, kw, GRID_WIDTH, 24, 2);
    filterCanvas.hidden = false;
    paintTiles(filterCanvas, layout, (k) => filterPixels(weights, inC, kh, kw, k, lut));
  };

  const drawEnlarged = () => {
    const big = model.get("enlarged") || {};
    const maps = model.get("maps") || {};
    bigBox.hidden = !big.values;
    root.dataset.unit = String(model.get("unit"));
    if (state) placeBox(selectedBox, state.order.indexOf(model.get("unit")));
    if (!big.values) return;
    const [h, w] = big.values.shape;
    const values = decodeArray(big.values);
    const scale = Math.max(1, Math.floor(ENLARGED / Math.max(h, w)));
    const pixels = paint(values, maps.limit, decodeArray(model.get("colormap")), new Uint8ClampedArray(h * w * 4));
    paintTiles(bigCanvas, { n: 1, h, w, scale, tileW: w * scale, tileH: h * scale, gap: 0, cols: 1, width: w * scale, height: h * scale }, () => pixels);
    bigCaption.textContent = `channel ${big.unit} of ${big.layer}: mean ${formatExact(big.mean, "float32")}`;
    bigBox.dataset.unit = String(big.unit);
    bigCanvas.onmousemove = (event) => {
      const rect = bigCanvas.getBoundingClientRect();
      const col = Math.min(w - 1, Math.floor(((event.clientX - rect.left) / rect.width) * w));
      const row = Math.min(h - 1, Math.floor(((event.clientY - rect.top) / rect.height) * h));
      const hostRect = root.getBoundingClientRect();
      tip.show([`channel ${big.unit} at y ${row}, x ${col}`, `value ${formatExact(values[row * w + col], "float32")}`, `mean ${formatExact(big.mean, "float32")}`],
        event.clientX - hostRect.left, event.clientY - hostRect.top);
    };
  };

  const draw = () => {
    showStatus(model, root, busy, message);
    drawLayers();
    sortBox.checked = model.get("sort_by_mean");
    const maps = model.get("maps") || {};
    if (!maps.values) return;
    const [channels, h, w] = maps.values.shape;
    const values = decodeArray(maps.values);
    const means = decodeArray(maps.means);
    const lut = decodeArray(model.get("colormap"));
    const order = channelOrder(means, model.get("sort_by_mean"));
    const layout = gridLayout(channels, h, w, GRID_WIDTH);
    state = { maps, values, means, order, layout, h, w };
    paintTiles(gridCanvas, layout, (slot) => {
      const k = order[slot];
      return paint(values.subarray(k * h * w, (k + 1) * h * w), maps.limit, lut, new Uint8ClampedArray(h * w * 4));
    });
    const [, fullH, fullW] = maps.shape;
    mapsHead.textContent = `${maps.layer} (${maps.type}): ${channels} channels of ${fullH} × ${fullW}` +
      (maps.block > 1 ? `, shown in ${maps.block} × ${maps.block} blocks (each block's extreme)` : "") +
      `; colour scale ±${formatExact(maps.limit, "float32")}, red positive`;
    placeBox(focusBox, document.activeElement === gridBox ? focus : -1);
    drawEnlarged();
    root.dataset.layer = maps.layer;
    root.dataset.row = String(maps.row);
    root.dataset.forValues = maps.for_values;
    root.dataset.channels = String(channels);
    root.dataset.order = order.slice(0, 16).join(",");
    root.dataset.renderCount = String(++renderCount);
  };

  gridCanvas.addEventListener("mousemove", (event) => {
    if (!state) return;
    const rect = gridCanvas.getBoundingClientRect();
    const hit = hitTest(state.layout, event.clientX - rect.left, event.clientY - rect.top);
    if (!hit) return tip.hide();
    const k = state.order[hit.slot];
    const b = state.maps.block;
    const v = mapValue(state.values, state.h, state.w, k, hit.row, hit.col);
    const where = b > 1 ? `y ${hit.row * b}–${hit.row * b + b - 1}, x ${hit.col * b}–${hit.col * b + b - 1} (block extreme)` : `y ${hit.row}, x ${hit.col}`;
    const hostRect = root.getBoundingClientRect();
    tip.show([`channel ${k}`, `value ${formatExact(v, "float32")} at ${where}`, `mean ${formatExact(state.means[k], "float32")}`],
      event.clientX - hostRect.left, event.clientY - hostRect.top);
  });
  gridCanvas.addEventListener("mouseleave", () => tip.hide());
  bigCanvas.addEventListener("mouseleave", () => tip.hide());
  gridCanvas.addEventListener("click", (event) => {
    if (!state) return;
    const rect = gridCanvas.getBoundingClientRect();
    const hit = hitTest(state.layout, event.clientX - rect.left, event.clientY - rect.top);
    if (!hit) return;
    focus = hit.slot;
    setUnit(state.order[hit.slot]);
  });
  gridBox.addEventListener("keydown", (event) => {
    if (!state) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      if (focus >= 0) setUnit(state.order[focus]);
    } else if (event.key === "Escape") {
      setUnit(-1);
    } else if (event.key.startsWith("Arrow")) {
      event.preventDefault();
      focus = moveSlot(state.layout, focus, event.key);
      placeBox(focusBox, focus);
      gridBox.setAttribute("aria-activedescendant", "");
      gridBox.setAttribute("aria-label", `channel ${state.order[focus]}, mean ${formatExact(state.means[state.order[focus]], "float32")}`);
    }
  });
  gridBox.addEventListener("focus", () => placeBox(focusBox, focus < 0 ? (focus = Math.max(0, state ? state.order.indexOf(model.get("unit")) : 0)) : focus));
  gridBox.addEventListener("blur", () => placeBox(focusBox, -1));
  layerSelect.addEventListener("change", () => {
    model.set("selected_layer", layerSelect.value);
    model.save_changes();
  });
  sortBox.addEventListener("change", () => {
    model.set("sort_by_mean", sortBox.checked);
    model.save_changes();
  });

  const redraw = coalesce(draw);
  const unlisten = listen(model, "change:maps change:sort_by_mean change:layers change:selected_layer change:colormap", redraw);
  const unlistenBig = listen(model, "change:enlarged change:unit", coalesce(drawEnlarged));
  const unlistenFilters = listen(model, "change:filters", coalesce(drawFilters));
  const unlistenStatus = listen(model, STATUS_EVENTS, coalesce(() => showStatus(model, root, busy, message)));
  drawFilters();
  draw();
  drawEnlarged();
  return announce(model, signal, () => {
    unlisten();
    unlistenBig();
    unlistenFilters();
    unlistenStatus();
  }, host);
}

export default { render };
