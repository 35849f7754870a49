// Trainer view: play/pause, step, reset, learning rate (log slider + exact number), optimizer, batch
// size, step and epoch counters, the loss curve. Python paces the updates (run_state, at most 4/s)
// and sends the next only after this view says it drew the last one ("drawn").
import "./trainer.css";
import { decodeArray } from "./lib/array.js";
import { el, tooltip } from "./lib/dom.js";
import { formatCount } from "./lib/format.js";
import { announce, listen } from "./lib/lifecycle.js";
import { fromPosition, parsePositive, SLIDER_STEPS, toPosition } from "./lib/log_slider.js";
import { drawCurve, pointAt } from "./lib/loss_curve.js";
import { coalesce } from "./lib/schedule.js";
import { svg } from "./lib/svg.js";

const WIDTH = 480;
const HEIGHT = 170;

function button(cls, text, label) {
  const node = el("button", `nnw-trainer-button ${cls}`, text);
  node.type = "button";
  node.setAttribute("aria-label", label);
  node.title = label;
  return node;
}

/** ▶ or ⏸ drawn as SVG shapes: the glyphs are missing from some fonts (they showed as empty boxes). */
function playIcon(playing) {
  const icon = svg("svg", { class: "nnw-trainer-icon", viewBox: "0 0 10 10", width: 10, height: 10, "aria-hidden": "true" });
  if (playing) {
    icon.append(svg("rect", { x: 1, y: 1, width: 3, height: 8 }), svg("rect", { x: 6, y: 1, width: 3, height: 8 }));
  } else {
    icon.append(svg("path", { d: "M2 1 L9 5 L2 9 Z" }));
  }
  return icon;
}

function labelled(text, control) {
  const label = el("label", "nnw-trainer-field", text);
  label.appendChild(control);
  return label;
}

function fixed(v, digits = 4) {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : String(Number(v.toPrecision(digits)));
}

/** The curves in `run_state` as plain arrays (decoded from the binary buffers). */
function curveOf(state, lossName) {
  const arr = (p) => (p ? Array.from(decodeArray(p)) : []);
  return {
    steps: arr(state.loss_steps),
    values: arr(state.loss_values),
    steps2: arr(state.accuracy_steps),
    values2: arr(state.accuracy_values),
    label: lossName ? `loss (${lossName})` : "loss",
    label2: "batch accuracy",
  };
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-trainer");
  const controls = el("div", "nnw-controls nnw-trainer-controls");
  const play = button("nnw-trainer-play", "", "play");
  play.appendChild(playIcon(false));
  const stepButton = button("nnw-trainer-step", "step", "train one step");
  const reset = button("nnw-trainer-reset", "reset", "reset to the initial weights");
  const counters = el("span", "nnw-trainer-counters");
  counters.setAttribute("aria-live", "off");
  controls.append(play, stepButton, reset, counters);

  const options = el("div", "nnw-controls nnw-trainer-options");
  const slider = el("input", "nnw-trainer-lr-slider");
  Object.assign(slider, { type: "range", min: "0", max: String(SLIDER_STEPS), step: "1" });
  slider.setAttribute("aria-label", "learning rate (log scale)");
  const lrInput = el("input", "nnw-trainer-lr");
  Object.assign(lrInput, { type: "number", min: "0", step: "any" });
  lrInput.setAttribute("aria-label", "learning rate (exact)");
  const optimizer = el("select", "nnw-trainer-optimizer");
  optimizer.setAttribute("aria-label", "optimizer");
  const batch = el("input", "nnw-trainer-batch");
  Object.assign(batch, { type: "number", min: "1", step: "1" });
  batch.setAttribute("aria-label", "batch size");
  const lrField = el("span", "nnw-trainer-field", "learning rate ");
  lrField.append(slider, lrInput);
  options.append(lrField, labelled("optimizer ", optimizer), labelled("batch ", batch));

  const stage = el("div", "nnw-trainer-stage");
  const plot = svg("svg", { class: "nnw-trainer-curve", role: "img", tabindex: "0", width: WIDTH, height: HEIGHT });
  plot.setAttribute("aria-label", "loss per step; arrow keys move the cursor");
  stage.appendChild(plot);
  const status = el("div", "nnw-trainer-status");
  status.setAttribute("role", "status");
  const error = el("div", "nnw-trainer-error");
  error.setAttribute("role", "alert");
  root.append(controls, options, stage, status, error);
  host.appendChild(root);
  const tip = tooltip(root);

  let curve = null;
  let scales = null;
  let cursor = null;
  let renderCount = 0;

  const save = (name, value) => {
    model.set(name, value);
    model.save_changes();
  };

  const showCursor = (point) => {
    plot.querySelector(".nnw-curve-cursor")?.remove();
    if (!point || !scales) {
      tip.hide();
      cursor = null;
      return;
    }
    cursor = point.index;
    const px = scales.x(point.step);
    const py = scales.y(point.value);
    const mark = svg("g", { class: "nnw-curve-cursor" });
    mark.append(svg("line", { x1: px, x2: px, y1: 8, y2: HEIGHT - 26 }), svg("circle", { cx: px, cy: py, r: 3 }));
    plot.appendChild(mark);
    const lines = [`step ${formatCount(point.step)}`, `loss ${fixed(point.value, 6)}`];
    if (point.value2 !== null && point.value2 !== undefined) lines.push(`batch accuracy ${fixed(point.value2, 4)}`);
    const box = plot.getBoundingClientRect();
    const host = root.getBoundingClientRect();
    const scale = box.width / WIDTH || 1;
    tip.show(lines, box.left - host.left + px * scale, box.top - host.top + py * scale);
  };

  const drawOptions = () => {
    const names = model.get("optimizers") || [];
    if (optimizer.options.length !== names.length || names.some((n, i) => optimizer.options[i].value !== n)) {
      optimizer.replaceChildren(...names.map((n) => Object.assign(el("option", "", n.replace("_", " ")), { value: n })));
    }
    optimizer.value = model.get("optimizer");
    const lr = model.get("lr");
    slider.value = String(toPosition(lr));
    if (document.activeElement !== lrInput) lrInput.value = String(lr);
    lrInput.removeAttribute("aria-invalid");
    if (document.activeElement !== batch) batch.value = String(model.get("batch_size"));
    root.dataset.lr = String(lr);
    root.dataset.optimizer = model.get("optimizer");
  };

  const draw = () => {
    const state = model.get("run_state") || {};
    const playing = model.get("playing");
    if (play.dataset.icon !== String(playing)) {
      play.replaceChildren(playIcon(playing));
      play.dataset.icon = String(playing);
    }
    play.setAttribute("aria-label", playing ? "pause" : "play");
    play.title = playing ? "pause" : "play";
    play.setAttribute("aria-pressed", String(playing));
    const steps = state.step ?? 0;
    const rows = model.get("rows");
    const parts = [`step ${formatCount(steps)}`, `epoch ${(state.epoch ?? 0).toFixed(2)}`];
    if (state.loss !== null && state.loss !== undefined) parts.push(`loss ${fixed(state.loss)}`);
    if (state.accuracy !== null && state.accuracy !== undefined) parts.push(`batch accuracy ${fixed(state.accuracy, 3)}`);
    counters.textContent = parts.join(" · ");
    counters.title = `${formatCount(rows)} rows; an epoch is one pass over them`;
    curve = curveOf(state, model.get("loss"));
    scales = drawCurve(plot, curve, WIDTH, HEIGHT);
    if (cursor !== null && scales) showCursor(pointAt(curve, scales, { index: Math.min(cursor, curve.steps.length - 1) }));
    else tip.hide();
    const err = model.get("error");
    error.hidden = !err;
    error.textContent = err || "";
    status.textContent = err ? "stopped" : playing ? "training… (pauses while a cell runs)" : steps ? "paused" : "ready";
    root.dataset.steps = String(steps);
    root.dataset.playing = String(playing);
    root.dataset.error = err ? "true" : "false";
    root.dataset.renderCount = String(++renderCount);
    if (state.seq) {
      try {
        model.send({ event: "drawn", seq: state.seq });
      } catch {
        // the kernel is gone
      }
    }
  };

  play.addEventListener("click", () => save("playing", !model.get("playing")));
  stepButton.addEventListener("click", () => model.send({ event: "step" }));
  reset.addEventListener("click", () => model.send({ event: "reset" }));
  slider.addEventListener("input", () => {
    lrInput.value = String(fromPosition(Number(slider.value)));
  });
  slider.addEventListener("change", () => save("lr", fromPosition(Number(slider.value))));
  slider.addEventListener("keydown", (event) => {
    // Handled here, not left to the browser: notebook hosts may claim arrow keys for their own shortcuts.
    const moves = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    event.stopPropagation();
    const position = Math.max(0, Math.min(SLIDER_STEPS, Number(slider.value) + moves[event.key]));
    slider.value = String(position);
    lrInput.value = String(fromPosition(position));
    save("lr", fromPosition(position));
  });
  const commitLr = () => {
    const v = parsePositive(lrInput.value);
    if (v === null) {
      lrInput.setAttribute("aria-invalid", "true");
      lrInput.title = "a learning rate is a number > 0";
      return;
    }
    lrInput.title = "";
    if (v !== model.get("lr")) save("lr", v);
  };
  lrInput.addEventListener("change", commitLr);
  lrInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") commitLr();
  });
  lrInput.addEventListener("blur", () => {
    if (parsePositive(lrInput.value) === null) lrInput.value = String(model.get("lr"));
  });
  optimizer.addEventListener("change", () => save("optimizer", optimizer.value));
  batch.addEventListener("change", () => {
    const v = Number(batch.value);
    if (Number.isInteger(v) && v >= 1) save("batch_size", v);
    else batch.value = String(model.get("batch_size"));
  });
  plot.addEventListener("mousemove", (event) => {
    if (!scales) return;
    const box = plot.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * WIDTH;
    showCursor(pointAt(curve, scales, { px }));
  });
  plot.addEventListener("mouseleave", () => showCursor(null));
  plot.addEventListener("keydown", (event) => {
    if (!scales || !curve.steps.length) return;
    const last = curve.steps.length - 1;
    const moves = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };
    if (event.key === "Escape") return showCursor(null);
    if (!(event.key in moves)) return;
    event.preventDefault();
    event.stopPropagation();
    const at = cursor === null ? last : cursor;
    const next = Math.max(0, Math.min(last, at + moves[event.key]));
    showCursor(pointAt(curve, scales, { index: Number.isFinite(next) ? next : moves[event.key] > 0 ? last : 0 }));
  });
  plot.addEventListener("blur", () => showCursor(null));

  const redraw = coalesce(draw);
  const redrawOptions = coalesce(drawOptions);
  const unlisten = listen(model, "change:run_state change:playing change:error change:rows change:loss", redraw);
  const unlistenOptions = listen(model, "change:lr change:optimizer change:optimizers change:batch_size", redrawOptions);
  drawOptions();
  draw();
  return announce(model, signal, () => {
    unlisten();
    unlistenOptions();
  }, host);
}

export default { render };
