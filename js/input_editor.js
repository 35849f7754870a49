// InputEditor view: row chooser, one slider + number box per feature, live prediction.
import "./input_editor.css";
import { decodeArray } from "./lib/array.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { formatExact } from "./lib/format.js";
import { announce, listen } from "./lib/lifecycle.js";
import { visibleOrder, windowRange } from "./lib/feature_list.js";
import { coalesce } from "./lib/schedule.js";
import { encodeValues, readValues, sliderToValue, throttle, valuesKey } from "./lib/values.js";

const SEND_EVERY_MS = 40;
const ROW_H = 26;
const VISIBLE_ROWS = 14;
const OVERSCAN = 6;

function button(label, title) {
  const b = el("button", "nnw-button", label);
  b.type = "button";
  b.title = title;
  return b;
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-editor");
  const features = model.get("features");
  const names = features.names;
  const lo = decodeArray(features.min);
  const hi = decodeArray(features.max);
  const step = decodeArray(features.step);
  const rows = features.rows;

  // Row chooser
  const head = el("div", "nnw-controls");
  const prev = button("◀", "previous row (←)");
  const next = button("▶", "next row (→)");
  const rowSlider = Object.assign(el("input", "nnw-row-slider"), { type: "range", min: 0, max: rows - 1, step: 1 });
  rowSlider.setAttribute("aria-label", "row");
  const rowNumber = Object.assign(el("input", "nnw-row-number"), { type: "number", min: 0, max: rows - 1, step: 1 });
  rowNumber.style.width = "70px";
  const random = button("random", "a random row");
  const reset = button("reset", "back to the row's original values");
  head.append(el("span", "nnw-title", "Row"), prev, rowSlider, rowNumber, next, random, reset, el("span", "nnw-meta", `of ${rows}`));

  // Features: a search box, an order, and a list that keeps only the rows in view in the DOM.
  const tools = el("div", "nnw-controls nnw-feature-tools");
  const search = Object.assign(el("input", "nnw-feature-search"), { type: "search", placeholder: `find one of ${names.length} features` });
  search.setAttribute("aria-label", "find a feature");
  const sort = el("select", "nnw-feature-sort");
  sort.setAttribute("aria-label", "order of the features");
  for (const [value, label] of [["data", "data order"], ["attribution", "by |attribution| here"], ["importance", "by importance"]]) {
    sort.appendChild(Object.assign(el("option", "", label), { value }));
  }
  const shownCount = el("span", "nnw-meta");
  tools.append(search, sort, shownCount);
  const viewport = el("div", "nnw-features-viewport nnw-stale");
  const spacer = el("div", "nnw-features-spacer");
  const list = el("div", "nnw-features");
  spacer.appendChild(list);
  viewport.appendChild(spacer);
  viewport.style.height = `${Math.min(names.length, VISIBLE_ROWS) * ROW_H + 4}px`;
  let values = readValues(model);
  let base = null;
  let order = visibleOrder(names, "", null);
  let drawn = [-1, -1];
  const rowsShown = new Map(); // feature index → {label, slider, number}
  const sendValues = throttle(() => {
    model.set("values", encodeValues(values));
    model.save_changes();
  }, SEND_EVERY_MS);

  const makeRow = (i) => {
    const name = names[i];
    const label = el("div", "nnw-feature-name", name);
    label.title = `${name}\nrange ${formatExact(lo[i], "float64")} … ${formatExact(hi[i], "float64")}`;
    const slider = Object.assign(el("input", "nnw-feature-slider"), { type: "range", min: lo[i], max: hi[i] > lo[i] ? hi[i] : lo[i] + 1, step: step[i] });
    slider.setAttribute("aria-label", name);
    slider.dataset.index = String(i);
    const number = Object.assign(el("input", "nnw-feature-number"), { type: "number", step: "any" });
    number.setAttribute("aria-label", `${name} value`);
    number.dataset.index = String(i);
    slider.addEventListener("input", () => {
      values[i] = sliderToValue(Number(slider.value), lo[i], hi[i], step[i]);
      number.value = String(values[i]);
      sendValues();
    });
    number.addEventListener("change", () => {
      const v = Number(number.value);
      if (!Number.isFinite(v)) return;
      values[i] = v;
      slider.value = String(v);
      sendValues();
    });
    return { label, slider, number };
  };
  const focused = () => list.getRootNode().activeElement;  // inside a shadow root too (marimo)
  const fillRow = (i, row) => {
    if (focused() !== row.slider) row.slider.value = String(values[i]);
    if (focused() !== row.number) row.number.value = String(values[i]);
    row.label.classList.toggle("nnw-edited", Boolean(base) && base[i] !== values[i]);
  };
  const drawWindow = (force = false) => {
    const [first, last] = windowRange(viewport.scrollTop, viewport.clientHeight || VISIBLE_ROWS * ROW_H, ROW_H, order.length, OVERSCAN);
    if (!force && first === drawn[0] && last === drawn[1]) return;
    drawn = [first, last];
    const keep = new Set(order.slice(first, last));
    for (const i of rowsShown.keys()) if (!keep.has(i)) rowsShown.delete(i);
    const cells = [];
    for (const i of order.slice(first, last)) {
      if (!rowsShown.has(i)) rowsShown.set(i, makeRow(i));
      const row = rowsShown.get(i);
      fillRow(i, row);
      cells.push(row.label, row.slider, row.number);
    }
    // Rows that stay are left in place (moving or detaching the focused slider would blur it).
    const active = focused();
    for (const [k, cell] of cells.entries()) if (list.children[k] !== cell) list.insertBefore(cell, list.children[k] || null);
    while (list.children.length > cells.length) list.lastChild.remove();
    if (active && active !== focused() && active.isConnected) active.focus({ preventScroll: true });
    list.style.top = `${first * ROW_H}px`;
    spacer.style.height = `${order.length * ROW_H}px`;
    shownCount.textContent = order.length < names.length ? `${order.length} of ${names.length} shown` : "";
  };
  // A new ranking arrives as the values move. While a slider is held it waits (moving the row under
  // the pointer would end the drag); the feature being edited keeps its place on screen and its focus.
  let holding = false;
  let pendingOrder = false;
  const reorder = () => {
    if (holding) {
      pendingOrder = true;
      root.dataset.orderHeld = "true";
      return;
    }
    delete root.dataset.orderHeld;
    root.dataset.orderings = String(Number(root.dataset.orderings || 0) + 1);
    const active = focused();
    const editing = active && list.contains(active) ? Number(active.dataset.index) : -1;
    const before = order.indexOf(editing);
    const ranking = model.get("sort_by") === "data" ? null : decodeArray(model.get("ranking")?.order || null);
    order = visibleOrder(names, search.value, ranking);
    const after = order.indexOf(editing);
    if (before >= 0 && after >= 0) viewport.scrollTop += (after - before) * ROW_H;
    drawWindow(true);
  };
  const hold = () => {
    holding = true;
  };
  const release = () => {
    if (!holding) return;
    holding = false;
    if (pendingOrder) {
      pendingOrder = false;
      reorder();
    }
  };
  list.addEventListener("pointerdown", hold);
  window.addEventListener("pointerup", release);
  window.addEventListener("pointercancel", release);
  viewport.addEventListener("scroll", () => drawWindow());
  search.addEventListener("input", reorder);
  sort.addEventListener("change", () => {
    model.set("sort_by", sort.value);
    model.save_changes();
  });

  // Prediction
  const prediction = el("div", "nnw-prediction");
  const busy = busyIndicator();
  const message = el("div", "nnw-message nnw-error");
  const body = el("div", "nnw-editor-body");
  const featuresBox = el("div", "nnw-features-box");
  featuresBox.append(tools, viewport);
  body.append(featuresBox, prediction);
  root.append(head, body, message);
  host.appendChild(root);

  const setRow = (r) => {
    const clamped = Math.max(0, Math.min(rows - 1, r));
    model.set("row", clamped);
    model.save_changes();
  };
  prev.addEventListener("click", () => setRow(model.get("row") - 1));
  next.addEventListener("click", () => setRow(model.get("row") + 1));
  random.addEventListener("click", () => setRow(Math.floor(Math.random() * rows)));
  rowSlider.addEventListener("change", () => setRow(Number(rowSlider.value)));
  rowNumber.addEventListener("change", () => setRow(Number(rowNumber.value)));
  reset.addEventListener("click", () => {
    // Setting the same row again would sync nothing; Python restores the row's values on request.
    model.send({ event: "reset" });
  });
  root.addEventListener("keydown", (event) => {
    if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") return;
    if (event.key === "ArrowLeft") setRow(model.get("row") - 1);
    if (event.key === "ArrowRight") setRow(model.get("row") + 1);
  });
  root.tabIndex = 0;

  let renderCount = 0;
  const drawPrediction = () => {
    const pred = model.get("prediction");
    const heading = el("div", "nnw-section-title", "Prediction ");
    heading.appendChild(busy);
    // What the model outputs (logits, probabilities, regression) and how that was decided.
    const [kind, ...why] = (model.get("output_kind") || "").split(": ");
    const source = el("div", "nnw-meta nnw-output-kind", kind ? `model outputs ${kind}` : "");
    source.title = why.join(": ");
    prediction.replaceChildren(heading, source);
    if (!pred || !pred.values) return;
    const out = decodeArray(pred.values);
    if (model.get("mode") === "regression") {
      prediction.appendChild(el("div", "nnw-regression-value", formatExact(out[0], "float64")));
    } else {
      const target = model.get("target_class");
      model.get("class_names").forEach((name, k) => {
        const row = el("div", `nnw-class-row${k === target ? " nnw-selected" : ""}`);
        row.dataset.index = String(k);
        row.title = `${name}: ${formatExact(out[k], "float64")}\nclick to explain this class`;
        const track = el("div", "nnw-class-track");
        const bar = el("div", "nnw-class-bar");
        bar.style.width = `${Math.max(0, Math.min(1, out[k])) * 100}%`;
        track.appendChild(bar);
        row.append(el("div", "", name), track, el("div", "nnw-meta", `${(out[k] * 100).toFixed(1)}%`));
        row.addEventListener("click", () => {
          model.set("target_class", k);
          model.save_changes();
        });
        prediction.appendChild(row);
      });
    }
    root.dataset.prediction = Array.from(out, (v) => v.toPrecision(6)).join(",");
    root.dataset.predictionFor = valuesKey(decodeArray(pred.for_values));
  };

  const draw = () => {
    values = readValues(model);
    const row = model.get("row");
    rowSlider.value = String(row);
    rowNumber.value = String(row);
    const original = model.get("original_values");
    base = original ? decodeArray(original) : null;
    for (const [i, row] of rowsShown) fillRow(i, row);
    sort.value = model.get("sort_by");
    drawPrediction();
    showStatus(model, root, busy, message);
    root.dataset.row = String(row);
    root.dataset.values = valuesKey(values);
    root.dataset.renderCount = String(++renderCount);
    root.dataset.drawnAt = String(performance.now());
  };

  const events = `change:values change:row change:prediction change:target_class change:original_values change:sort_by`;
  const redraw = coalesce(draw);
  const unlisten = listen(model, events, redraw);
  const unlistenOrder = listen(model, "change:ranking change:sort_by", coalesce(reorder));
  // Status changes (busy, progress, errors) only touch the status line, never redraw the content.
  const unlistenStatus = listen(model, STATUS_EVENTS, coalesce(() => showStatus(model, root, busy, message)));
  draw();
  reorder();
  return announce(model, signal, () => {
    unlisten();
    unlistenStatus();
    unlistenOrder();
    window.removeEventListener("pointerup", release);
    window.removeEventListener("pointercancel", release);
  }, host);
}

export default { render };
