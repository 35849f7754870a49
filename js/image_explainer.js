// ImageExplainer view: gallery (one sprite, paged, filtered), the chosen picture enlarged under an
// attribution overlay, a brush that paints on it, and the prediction for the picture as it is now.
import "./image_explainer.css";
import { decodeArray } from "./lib/array.js";
import { UndoStack, pictureDigest, pointerToPixel, strokeSegment } from "./lib/brush.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus, tooltip } from "./lib/dom.js";
import { moveFocus, tileBackground } from "./lib/gallery.js";
import { blit, overlayRGBA, pictureRGBA, segmentEdges, segmentMap } from "./lib/image_canvas.js";
import { formatExact } from "./lib/format.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { encodeValues, readValues, throttle } from "./lib/values.js";

const PICTURE_PX = 280; // the enlarged picture's longer side, CSS pixels
const TILE_PX = 36; // a thumbnail's longer side on the page
const GRID_COLUMNS = 10;
const SEND_DURING_DRAG_MS = 100;
const DRAG_SEND_LIMIT = 4096; // pictures up to this many values are also sent while the stroke goes on
const METHOD_LABELS = {
  saliency: "saliency",
  gradient_x_input: "gradient × input",
  integrated_gradients: "integrated gradients",
  occlusion: "occlusion",
  lime: "LIME superpixels",
};
const COLORMAP_LABELS = { RdBu_r: "blue – red", PuOr_r: "orange – purple", BrBG: "brown – teal" };

function button(label, title) {
  const b = el("button", "nnw-button", label);
  b.type = "button";
  b.title = title;
  return b;
}

function select(label, options) {
  const node = el("select", "");
  node.setAttribute("aria-label", label);
  for (const [value, text] of options) node.appendChild(Object.assign(el("option", "", text), { value: String(value) }));
  return node;
}

function labelled(text, control) {
  const wrap = el("label", "nnw-ie-field");
  wrap.append(el("span", "", text), control);
  return wrap;
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-image-explainer");
  const info = model.get("image");
  const shape = info.shape;
  const [, h, w] = shape;
  const classNames = () => model.get("class_names") || [];
  const classOptions = (all) => [[-1, all], ...classNames().map((name, k) => [k, name])];

  // Head
  const head = el("div", "nnw-panel-head");
  const busy = busyIndicator();
  head.append(el("span", "nnw-title", "Image explainer"), busy);
  const message = el("div", "nnw-message nnw-error");

  // Gallery
  const galleryBox = el("div", "nnw-ie-gallery");
  const galleryTools = el("div", "nnw-controls");
  const trueFilter = select("filter by true class", classOptions("all"));
  const predictedFilter = select("filter by predicted class", classOptions("all"));
  const wrongFirst = Object.assign(el("input", ""), { type: "checkbox" });
  wrongFirst.setAttribute("aria-label", "misclassified first");
  const prevPage = button("◀", "previous page");
  const nextPage = button("▶", "next page");
  const pageText = el("span", "nnw-meta nnw-ie-page");
  galleryTools.append(labelled("true", trueFilter), labelled("predicted", predictedFilter), labelled("misclassified first", wrongFirst),
    prevPage, pageText, nextPage);
  if (!info.labelled) {
    trueFilter.disabled = wrongFirst.disabled = true;
    trueFilter.title = wrongFirst.title = "needs labels: pass y= to the inspector";
  }
  const grid = el("div", "nnw-ie-grid");
  grid.setAttribute("role", "listbox");
  grid.setAttribute("aria-label", "images");
  galleryBox.append(galleryTools, grid);

  // The picture, its overlay, the brush
  const pictureBox = el("div", "nnw-ie-picture-box");
  const scale = PICTURE_PX / Math.max(h, w);
  const stage = el("div", "nnw-ie-stage");
  stage.style.width = `${Math.round(w * scale)}px`;
  stage.style.height = `${Math.round(h * scale)}px`;
  const pictureCanvas = el("canvas", "nnw-ie-picture");
  pictureCanvas.width = w;
  pictureCanvas.height = h;
  const overlayCanvas = el("canvas", "nnw-ie-overlay");
  const dpr = window.devicePixelRatio || 1;
  overlayCanvas.width = Math.round(w * scale * dpr);
  overlayCanvas.height = Math.round(h * scale * dpr);
  overlayCanvas.setAttribute("role", "img");
  overlayCanvas.tabIndex = 0;
  stage.append(pictureCanvas, overlayCanvas);
  const brushTools = el("div", "nnw-controls nnw-ie-brush");
  const paintMode = select("brush mode", [["paint", "paint"], ["erase", "erase"]]);
  const size = Object.assign(el("input", ""), { type: "range", min: 1, max: Math.max(2, Math.ceil(Math.max(h, w) / 2)), step: 1 });
  size.setAttribute("aria-label", "brush size");
  const value = Object.assign(el("input", ""), { type: "range", min: info.low, max: info.high > info.low ? info.high : info.low + 1, step: "any" });
  value.setAttribute("aria-label", "brush value");
  const undo = button("undo", "undo the last stroke");
  const reset = button("reset", "back to the image's own picture");
  brushTools.append(paintMode, labelled("size", size), labelled("value", value), undo, reset);
  const pictureMeta = el("div", "nnw-meta nnw-ie-picture-meta");
  pictureBox.append(stage, brushTools, pictureMeta);

  // Explanation controls, legend, prediction
  const side = el("div", "nnw-ie-side");
  const explainTools = el("div", "nnw-controls nnw-ie-explain");
  const method = select("attribution method", Object.entries(METHOD_LABELS));
  const target = select("explained class", []);
  const opacity = Object.assign(el("input", ""), { type: "range", min: 0, max: 1, step: 0.05 });
  opacity.setAttribute("aria-label", "overlay opacity");
  const colormap = select("colour map", Object.entries(COLORMAP_LABELS));
  explainTools.append(labelled("method", method), labelled("explain", target), labelled("opacity", opacity), labelled("colours", colormap));
  const legend = el("div", "nnw-ie-legend");
  const legendBar = el("canvas", "nnw-ie-legend-bar");
  legendBar.width = 128;
  legendBar.height = 1;
  const legendLow = el("span", "nnw-meta");
  const legendHigh = el("span", "nnw-meta");
  legend.append(legendLow, legendBar, legendHigh);
  const overlayMeta = el("div", "nnw-meta nnw-ie-overlay-meta");
  const prediction = el("div", "nnw-ie-prediction");
  side.append(explainTools, legend, overlayMeta, el("div", "nnw-section-title", "Prediction"), prediction);

  const body = el("div", "nnw-ie-body");
  body.append(galleryBox, pictureBox, side);
  root.append(head, message, body);
  host.appendChild(root);
  const tip = tooltip(root);

  // -- state ----------------------------------------------------------------------------------------
  let values = readValues(model);
  let digest = pictureDigest(values);
  let stroke = null; // {last: [row, col], value} while the pointer is down
  const history = new UndoStack();
  let sentAt = null; // {digest, time} of the last stroke sent
  let renderCount = 0;

  const send = () => {
    model.set("values", encodeValues(values));
    model.save_changes();
  };
  const sendDuringDrag = throttle(send, SEND_DURING_DRAG_MS);

  const drawPicture = () => {
    pictureCanvas.getContext("2d").putImageData(new ImageData(pictureRGBA(values, shape, info.low, info.high), w, h), 0, 0);
    digest = pictureDigest(values);
    root.dataset.picture = digest;
    undo.disabled = history.size === 0;
    drawStale();
  };

  // -- overlay --------------------------------------------------------------------------------------
  const drawOverlay = () => {
    const payload = model.get("overlay");
    const ctx = overlayCanvas.getContext("2d");
    ctx.clearRect(0, 0, overlayCanvas.width, overlayCanvas.height);
    const lutPayload = model.get("lut");
    if (!payload || !payload.kind || !lutPayload) return;
    const lut = decodeArray(lutPayload);
    const alpha = Number(model.get("opacity"));
    const limit = payload.limit;
    const names = classNames();
    const explained = names[payload.target] ?? `class ${payload.target}`;
    if (payload.kind === "lime") {
      const segments = decodeArray(payload.segments);
      const weights = decodeArray(payload.weights);
      blit(overlayCanvas, overlayRGBA(segmentMap(segments, weights), limit, lut, alpha), h, w, false);
      const unit = overlayCanvas.width / w;
      ctx.strokeStyle = "rgba(255, 221, 0, 0.95)"; // segment outlines: yellow reads on grey, red and blue
      ctx.lineWidth = Math.max(1, dpr);
      ctx.beginPath();
      for (const [x0, y0, x1, y1] of segmentEdges(segments, h, w)) {
        ctx.moveTo(x0 * unit, y0 * unit);
        ctx.lineTo(x1 * unit, y1 * unit);
      }
      ctx.stroke();
      overlayMeta.textContent = `LIME for ${explained}: ${weights.length} superpixels, ${payload.samples} samples, R² ${payload.score.toFixed(3)}`;
    } else {
      blit(overlayCanvas, overlayRGBA(decodeArray(payload.map), limit, lut, alpha), h, w, false);
      const delta = payload.delta === null || payload.delta === undefined ? "" : `, convergence error ${Number(payload.delta).toExponential(1)}`;
      const settings = payload.settings ? ` (${payload.settings})` : "";
      overlayMeta.textContent = `${METHOD_LABELS[payload.method] || payload.method}${settings} of the ${payload.output} of ${explained}${delta}`;
    }
    overlayCanvas.setAttribute("aria-label", `${overlayMeta.textContent}; ${h} × ${w} picture, draw on it to paint`);
    legendLow.textContent = `−${Number(limit).toPrecision(3)}`;
    legendHigh.textContent = `+${Number(limit).toPrecision(3)}`;
    legend.title = `colour scale: ±${formatExact(limit, "float32")}`;
    const bar = legendBar.getContext("2d");
    const strip = new ImageData(128, 1);
    for (let i = 0; i < 128; i++) {
      const k = Math.floor((i / 127) * (lut.length / 3 - 1));
      strip.data.set([lut[3 * k], lut[3 * k + 1], lut[3 * k + 2], 255], i * 4);
    }
    bar.putImageData(strip, 0, 0);
    root.dataset.overlayFor = payload.for;
    root.dataset.overlayMethod = payload.method;
    if (sentAt && sentAt.digest === payload.for && !sentAt.overlay) {
      sentAt.overlay = performance.now() - sentAt.time;
      root.dataset.overlayLatency = sentAt.overlay.toFixed(1);
    }
    drawStale();
  };

  const drawStale = () => {
    const overlay = model.get("overlay");
    stage.classList.toggle("nnw-ie-stale", Boolean(overlay && overlay.for && overlay.for !== digest));
    const pred = model.get("prediction");
    prediction.classList.toggle("nnw-stale", Boolean(pred && pred.for && pred.for !== digest));
  };

  // -- prediction -----------------------------------------------------------------------------------
  const drawPrediction = () => {
    const pred = model.get("prediction");
    if (!pred || !pred.values) return;
    const out = decodeArray(pred.values);
    const names = classNames();
    const truth = model.get("label");
    const explained = model.get("target_class");
    const best = out.reduce((b, v, k) => (v > out[b] ? k : b), 0);
    if (model.get("mode") === "regression") {
      prediction.replaceChildren(el("div", "nnw-regression-value", formatExact(out[0], "float64")));
    } else {
      prediction.replaceChildren(
        ...Array.from(out, (p, k) => {
          const row = el("div", "nnw-ie-class");
          row.classList.toggle("nnw-selected", k === explained);
          row.classList.toggle("nnw-ie-true", k === truth);
          row.dataset.index = String(k);
          row.dataset.value = String(p);
          const name = el("span", "nnw-ie-class-name", names[k] ?? `class ${k}`);
          const track = el("div", "nnw-class-track");
          const bar = el("div", "nnw-class-bar");
          bar.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
          track.appendChild(bar);
          const mark = el("span", "nnw-ie-mark", k === truth ? "true" : "");
          row.append(name, track, el("span", "nnw-meta", `${(p * 100).toFixed(1)}%`), mark);
          row.title = `${names[k] ?? k}: ${formatExact(p, "float64")}${k === truth ? "\n(the true class)" : ""}\nclick to explain this class`;
          row.addEventListener("click", () => {
            model.set("follow_prediction", false);
            model.set("target_class", k);
            model.save_changes();
          });
          return row;
        }),
      );
    }
    root.dataset.predicted = String(best);
    root.dataset.prediction = Array.from(out, (v) => v.toPrecision(6)).join(",");
    root.dataset.predictionFor = pred.for;
    if (sentAt && sentAt.digest === pred.for && !sentAt.prediction) {
      sentAt.prediction = performance.now() - sentAt.time;
      root.dataset.predictionLatency = sentAt.prediction.toFixed(1);
    }
    drawStale();
  };

  // -- controls ---------------------------------------------------------------------------------------
  const drawControls = () => {
    const names = classNames();
    const follow = model.get("follow_prediction");
    const options = [["auto", "predicted class"], ...names.map((name, k) => [k, name])];
    if (target.options.length !== options.length) target.replaceChildren(...options.map(([v, t]) => Object.assign(el("option", "", t), { value: String(v) })));
    target.value = follow ? "auto" : String(model.get("target_class"));
    method.value = model.get("method");
    opacity.value = String(model.get("opacity"));
    colormap.value = model.get("colormap");
    size.value = String(model.get("brush_size"));
    value.value = String(model.get("brush_value"));
    trueFilter.value = String(model.get("true_class"));
    predictedFilter.value = String(model.get("predicted_class"));
    wrongFirst.checked = model.get("misclassified_first");
    const truth = model.get("label");
    pictureMeta.textContent = `image ${model.get("row")}${truth >= 0 ? ` · true class ${names[truth] ?? truth}` : ""} · ${shape.join(" × ")}`;
    root.dataset.row = String(model.get("row"));
    root.dataset.targetClass = String(model.get("target_class"));
  };
  const setTrait = (name, v) => {
    model.set(name, v);
    model.save_changes();
  };
  method.addEventListener("change", () => setTrait("method", method.value));
  colormap.addEventListener("change", () => setTrait("colormap", colormap.value));
  opacity.addEventListener("input", () => {
    model.set("opacity", Number(opacity.value)); // drawn here at once; Python hears it once the drag ends
    drawOverlay();
  });
  opacity.addEventListener("change", () => model.save_changes());
  target.addEventListener("change", () => {
    if (target.value === "auto") {
      setTrait("follow_prediction", true);
    } else {
      model.set("follow_prediction", false);
      setTrait("target_class", Number(target.value));
    }
  });
  size.addEventListener("change", () => setTrait("brush_size", Number(size.value)));
  value.addEventListener("change", () => setTrait("brush_value", Number(value.value)));
  trueFilter.addEventListener("change", () => setTrait("true_class", Number(trueFilter.value)));
  predictedFilter.addEventListener("change", () => setTrait("predicted_class", Number(predictedFilter.value)));
  wrongFirst.addEventListener("change", () => setTrait("misclassified_first", wrongFirst.checked));
  prevPage.addEventListener("click", () => setTrait("page", Math.max(0, model.get("page") - 1)));
  nextPage.addEventListener("click", () => setTrait("page", model.get("page") + 1));
  undo.addEventListener("click", () => {
    const before = history.pop();
    if (!before) return;
    values = before;
    drawPicture();
    markSent();
    send();
  });
  reset.addEventListener("click", () => {
    history.clear();
    model.send({ event: "reset" }); // setting the same row again would sync nothing
  });

  // -- the brush --------------------------------------------------------------------------------------
  const brushValue = () => (paintMode.value === "erase" ? info.low : Number(model.get("brush_value")));
  const pointAt = (event) => {
    const rect = overlayCanvas.getBoundingClientRect();
    return pointerToPixel(event.clientX - rect.left, event.clientY - rect.top, rect.width, rect.height, h, w);
  };
  const markSent = () => {
    sentAt = { digest: pictureDigest(values), time: performance.now() };
    root.dataset.sentFor = sentAt.digest;
    root.dataset.sentCount = String(Number(root.dataset.sentCount || 0) + 1);
  };
  overlayCanvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    overlayCanvas.setPointerCapture?.(event.pointerId);
    history.push(values);
    const point = pointAt(event);
    stroke = { last: point, value: brushValue(), changed: 0 };
    stroke.changed += strokeSegment(values, shape, point, point, model.get("brush_size"), stroke.value);
    drawPicture();
  });
  overlayCanvas.addEventListener("pointermove", (event) => {
    const point = pointAt(event);
    tip.show([`y ${Math.floor(point[0])}, x ${Math.floor(point[1])}`], event.clientX - root.getBoundingClientRect().left, event.clientY - root.getBoundingClientRect().top);
    if (!stroke) return;
    stroke.changed += strokeSegment(values, shape, stroke.last, point, model.get("brush_size"), stroke.value);
    stroke.last = point;
    drawPicture();
    if (values.length <= DRAG_SEND_LIMIT) sendDuringDrag();
  });
  overlayCanvas.addEventListener("pointerleave", () => tip.hide());
  const endStroke = () => {
    if (!stroke) return;
    const changed = stroke.changed;
    stroke = null;
    if (!changed) {
      history.pop(); // a click that painted nothing new is no step to undo
      undo.disabled = history.size === 0;
      return;
    }
    markSent();
    send();
  };
  overlayCanvas.addEventListener("pointerup", endStroke);
  overlayCanvas.addEventListener("pointercancel", endStroke);

  // -- the gallery ----------------------------------------------------------------------------------
  let tiles = [];
  let focusIndex = 0;
  let sheetURL = "";
  const drawGallery = () => {
    const g = model.get("gallery");
    if (!g || !g.sprite) return;
    const rows = decodeArray(g.rows);
    const labels = g.labels ? decodeArray(g.labels) : null;
    const sheetShape = g.sprite.shape;
    let url = "";
    if (rows.length) {
      const sheet = document.createElement("canvas");
      sheet.width = sheetShape[1];
      sheet.height = sheetShape[0];
      const bytes = new Uint8ClampedArray(decodeArray(g.sprite));
      sheet.getContext("2d").putImageData(new ImageData(bytes, sheetShape[1], sheetShape[0]), 0, 0);
      url = sheet.toDataURL();
    }
    sheetURL = url;
    const tileScale = TILE_PX / Math.max(g.tile[0], g.tile[1]);
    const names = classNames();
    tiles = Array.from(rows, (row, i) => {
      const tile = el("button", "nnw-ie-tile");
      tile.type = "button";
      tile.setAttribute("role", "option");
      tile.dataset.row = String(row);
      tile.dataset.index = String(i);
      tile.tabIndex = -1;
      const bg = tileBackground(i, g.columns, g.tile, sheetShape, tileScale);
      tile.style.backgroundImage = `url(${sheetURL})`;
      tile.style.backgroundPosition = bg.position;
      tile.style.backgroundSize = bg.size;
      tile.style.width = `${Math.round(g.tile[1] * tileScale)}px`;
      tile.style.height = `${Math.round(g.tile[0] * tileScale)}px`;
      const truth = labels ? labels[i] : -1;
      tile.dataset.label = String(truth);
      tile.title = `image ${row}${truth >= 0 ? ` · true ${names[truth] ?? truth}` : ""}`;
      tile.setAttribute("aria-label", tile.title);
      tile.addEventListener("click", () => choose(i));
      return tile;
    });
    grid.replaceChildren(...tiles);
    grid.style.gridTemplateColumns = `repeat(${Math.min(GRID_COLUMNS, Math.max(1, tiles.length))}, max-content)`;
    pageText.textContent = `page ${g.page + 1} of ${g.pages} · ${g.total.toLocaleString("en-US")} images`;
    prevPage.disabled = g.page <= 0;
    nextPage.disabled = g.page >= g.pages - 1;
    grid.dataset.count = String(tiles.length);
    grid.dataset.page = String(g.page);
    grid.dataset.rows = Array.from(rows).slice(0, 16).join(",");
    if (!tiles.length) grid.replaceChildren(el("div", "nnw-meta", "no image matches these filters"));
    focusIndex = Math.min(focusIndex, Math.max(0, tiles.length - 1));
    if (tiles.length) tiles[focusIndex].tabIndex = 0;
    drawSelection();
    drawGalleryPredictions();
  };
  const drawGalleryPredictions = () => {
    const p = model.get("gallery_predictions");
    if (!p || !p.rows) return;
    const rows = decodeArray(p.rows);
    const predicted = decodeArray(p.predicted);
    const confidence = decodeArray(p.confidence);
    const byRow = new Map(Array.from(rows, (row, i) => [row, i]));
    const names = classNames();
    for (const tile of tiles) {
      const i = byRow.get(Number(tile.dataset.row));
      if (i === undefined) continue;
      const truth = Number(tile.dataset.label);
      const guess = predicted[i];
      tile.dataset.predicted = String(guess);
      const wrong = truth >= 0 && guess >= 0 && guess !== truth;
      tile.classList.toggle("nnw-ie-wrong", wrong);
      const text = `image ${tile.dataset.row}${truth >= 0 ? ` · true ${names[truth] ?? truth}` : ""} · predicted ${names[guess] ?? guess} (${(confidence[i] * 100).toFixed(1)}%)${wrong ? " · misclassified" : ""}`;
      tile.title = text;
      tile.setAttribute("aria-label", text);
    }
    grid.dataset.predicted = "true";
  };
  const drawSelection = () => {
    const row = String(model.get("row"));
    for (const tile of tiles) {
      const chosen = tile.dataset.row === row;
      tile.classList.toggle("nnw-selected", chosen);
      tile.setAttribute("aria-selected", String(chosen));
    }
  };
  const choose = (i) => {
    focusIndex = i;
    setTrait("row", Number(tiles[i].dataset.row));
  };
  grid.addEventListener("keydown", (event) => {
    const i = Number(event.target.dataset?.index ?? focusIndex);
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      if (tiles[i]) choose(i);
      return;
    }
    const columns = Math.min(GRID_COLUMNS, tiles.length);
    const next = moveFocus(i, event.key, columns, tiles.length);
    if (next === null) return;
    event.preventDefault();
    tiles[i].tabIndex = -1;
    tiles[next].tabIndex = 0;
    tiles[next].focus();
    focusIndex = next;
  });

  // -- redraws ----------------------------------------------------------------------------------------
  const onValues = () => {
    if (stroke) return; // the stroke under way is what the page shows; Python's echo of it follows
    values = readValues(model);
    drawPicture();
  };
  const onRow = () => {
    history.clear();
    drawSelection();
    drawControls();
  };
  const drawAll = () => {
    drawControls();
    drawPicture();
    drawOverlay();
    drawPrediction();
    drawGallery();
    root.dataset.renderCount = String(++renderCount);
  };
  const unlisten = [
    listen(model, "change:values", onValues),
    listen(model, "change:row", onRow),
    listen(model, "change:overlay change:lut change:opacity", coalesce(drawOverlay)),
    listen(model, "change:prediction change:label change:target_class", coalesce(drawPrediction)),
    listen(model, "change:gallery", coalesce(drawGallery)),
    listen(model, "change:gallery_predictions", coalesce(drawGalleryPredictions)),
    listen(model, "change:method change:colormap change:follow_prediction change:target_class change:brush_size change:brush_value change:true_class change:predicted_class change:misclassified_first change:label change:class_names", coalesce(drawControls)),
    listen(model, STATUS_EVENTS, coalesce(() => showStatus(model, root, busy, message))),
  ];
  showStatus(model, root, busy, message);
  drawAll();
  return announce(model, signal, () => unlisten.forEach((undoListen) => undoListen()), host);
}

export default { render };
