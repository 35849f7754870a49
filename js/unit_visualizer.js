// UnitVisualizer view: choose a layer and unit and the ascent's settings, press run; the optimised
// picture (magnified, crisp), the target's activation per step against the mean over real pictures.
import "./unit_visualizer.css";
import { decodeArray } from "./lib/array.js";
import { clampSetting, drawAscent, layerLabel, pictureScale, ratioText } from "./lib/ascent.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { blit, pictureRGBA } from "./lib/image_canvas.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";

const PICTURE = 192;
const CHART_W = 360;
const CHART_H = 200;
// Settings sent with "run": trait, label, step of the number input, minimum, whether it is an integer.
const SETTINGS = [
  ["steps", "steps", 1, 1, true],
  ["lr", "lr", 0.01, 0, false],
  ["l2", "L2", 0.0001, 0, false],
  ["blur_every", "blur every", 1, 0, true],
  ["blur_sigma", "blur σ", 0.1, 0, false],
  ["jitter", "jitter", 1, 0, true],
  ["seed", "seed", 1, 0, true],
];

const LIMITS = { steps: 100000, l2: 0.999 };

function numberInput(name, step, min) {
  const input = el("input", `nnw-uv-input nnw-uv-${name.replace("_", "-")}`);
  input.type = "number";
  input.step = String(step);
  input.min = String(min);
  return input;
}

function labelled(text, input) {
  const label = el("label", "nnw-uv-field");
  label.append(el("span", "", text), input);
  return label;
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-unit-visualizer");
  const head = el("div", "nnw-panel-head");
  const busy = busyIndicator();
  head.append(el("span", "nnw-title", "Unit visualizer"), busy);
  const controls = el("div", "nnw-controls nnw-uv-controls");
  const layerSelect = el("select", "nnw-uv-layer");
  layerSelect.setAttribute("aria-label", "layer");
  const unitInput = numberInput("unit", 1, 0);
  const inputs = Object.fromEntries(SETTINGS.map(([name, , step, min]) => [name, numberInput(name, step, min)]));
  const runButton = el("button", "nnw-uv-run", "run");
  runButton.type = "button";
  controls.append(labelled("layer", layerSelect), labelled("unit", unitInput),
    ...SETTINGS.map(([name, text]) => labelled(text, inputs[name])), runButton);
  const body = el("div", "nnw-uv-body nnw-stale");
  const canvas = el("canvas", "nnw-uv-picture");
  canvas.setAttribute("role", "img");
  const plot = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  plot.setAttribute("class", "nnw-uv-chart");
  plot.setAttribute("role", "img");
  body.append(canvas, plot);
  const caption = el("div", "nnw-meta nnw-uv-caption");
  const ratio = el("div", "nnw-uv-ratio");
  const message = el("div", "nnw-message nnw-error");
  root.append(head, controls, body, caption, ratio, message);
  host.appendChild(root);
  let runs = 0;

  const drawControls = () => {
    const layers = model.get("layers") || [];
    const layer = model.get("layer");
    layerSelect.replaceChildren(...layers.map((entry) => {
      const option = el("option", "", layerLabel(entry));
      option.value = entry.name;
      return option;
    }));
    layerSelect.value = layer;
    const entry = layers.find((l) => l.name === layer);
    unitInput.max = entry ? String(entry.units - 1) : "";
    unitInput.value = String(model.get("unit"));
    for (const [name] of SETTINGS) inputs[name].value = String(model.get(name));
    root.dataset.layer = layer;
    root.dataset.unit = String(model.get("unit"));
  };

  // Everything in the form at once (one message, validated together in Python); the same settings again
  // ask for the run by a message, since no trait changes.
  const run = () => {
    const entry = (model.get("layers") || []).find((l) => l.name === layerSelect.value);
    const wanted = { layer: layerSelect.value, unit: clampSetting(unitInput.value, 0, entry ? entry.units - 1 : Infinity, true) };
    for (const [name, , , min, integer] of SETTINGS) wanted[name] = clampSetting(inputs[name].value, min, LIMITS[name] ?? Infinity, integer);
    // Values Python would refuse (lr 0, an empty field) are not sent: the field shows the value in use again.
    const changed = Object.entries(wanted).filter(([name, v]) => name === "layer" || (Number.isFinite(v) && !(name === "lr" && v <= 0)))
      .filter(([name, v]) => model.get(name) !== v);
    if (changed.length) {
      for (const [name, v] of changed) model.set(name, v);
      model.save_changes();
    } else {
      model.send({ event: "run" });
    }
    drawControls(); // clamped or refused values show what is in use
  };
  runButton.addEventListener("click", run);
  controls.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.tagName === "INPUT") run();
  });
  layerSelect.addEventListener("change", () => {
    const entry = (model.get("layers") || []).find((l) => l.name === layerSelect.value);
    if (entry && Number(unitInput.value) >= entry.units) unitInput.value = "0";
    if (entry) unitInput.max = String(entry.units - 1);
  });

  const drawResult = () => {
    const a = model.get("ascent");
    if (!a || !a.image) return;
    const [c, h, w] = a.image.shape;
    const scale = pictureScale(h, w, PICTURE);
    canvas.width = w * scale;
    canvas.height = h * scale;
    blit(canvas, pictureRGBA(decodeArray(a.image), [c, h, w], a.low, a.high), h, w);
    canvas.setAttribute("aria-label", `picture optimised for ${a.target}`);
    const values = decodeArray(a.activations);
    drawAscent(plot, values, a.mean, CHART_W, CHART_H);
    plot.setAttribute("aria-label", `activation per step, ${values.length} steps`);
    caption.textContent = `${a.target}: ${Number(a.final.toPrecision(4))} after ${values.length} steps (${a.seconds.toFixed(2)} s)`;
    ratio.textContent = ratioText(a.final, a.mean, a.rows);
    root.dataset.resultLayer = a.layer;
    root.dataset.resultUnit = String(a.unit);
    root.dataset.steps = String(values.length);
    root.dataset.final = String(a.final);
    root.dataset.runs = String(++runs);
  };

  const drawStatus = () => {
    showStatus(model, root, busy, message);
    root.dataset.state = model.get("busy") ? "running" : model.get("error") ? "error" : "done";
    runButton.disabled = false;
  };

  const unlistenControls = listen(model, `change:layers change:layer change:unit ${SETTINGS.map(([n]) => `change:${n}`).join(" ")}`, coalesce(drawControls));
  const unlistenResult = listen(model, "change:ascent", coalesce(drawResult));
  const unlistenStatus = listen(model, STATUS_EVENTS, coalesce(drawStatus));
  drawControls();
  drawResult();
  drawStatus();
  return announce(model, signal, () => {
    unlistenControls();
    unlistenResult();
    unlistenStatus();
  }, host);
}

export default { render };
