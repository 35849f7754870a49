// LimeExplainer view: lime's weights as diverging bars, with prediction, intercept and fidelity.
import "./lime_explainer.css";
import { decodeArray } from "./lib/array.js";
import { divergingBars } from "./lib/diverging_bars.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { valuesKey } from "./lib/values.js";

function meta(label, value, title) {
  const span = el("span", "nnw-meta", `${label} `);
  span.appendChild(el("b", "", value));
  if (title) span.title = title;
  return span;
}

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-lime");
  const head = el("div", "nnw-panel-head");
  const busy = busyIndicator();
  const title = el("span", "nnw-title", "LIME · local explanation");
  head.append(title, busy);
  const info = el("div", "nnw-panel-head");
  const bars = el("div", "nnw-stale");
  const message = el("div", "nnw-message nnw-error");
  root.append(head, info, bars, message);
  host.appendChild(root);
  let renderCount = 0;

  const draw = () => {
    showStatus(model, root, busy, message);
    const ex = model.get("explanation");
    if (!ex || !ex.weights) return;
    const classification = model.get("mode") === "classification";
    const classes = model.get("class_names");
    const prediction = decodeArray(ex.prediction);
    const explained = classification ? classes[ex.label] : "output";
    title.textContent = `LIME · ${explained}`;
    const predicted = classification ? prediction[ex.label] : prediction[0];
    info.replaceChildren(
      meta(classification ? `P(${explained})` : "prediction", predicted.toPrecision(4)),
      meta("intercept", ex.intercept.toPrecision(4)),
      meta("local prediction", ex.local_prediction.toPrecision(4), "what lime's linear model predicts for this row"),
      meta("local fidelity", `R² ${ex.local_fidelity.toFixed(3)}`, "R² of lime's linear model on its weighted samples: how well it imitates the model near this row"),
      meta("samples", ex.samples.toLocaleString(), ex.training_rows < ex.total_rows
        ? `lime's feature statistics (quartiles, scales) from a sample of ${ex.training_rows.toLocaleString()} of ${ex.total_rows.toLocaleString()} rows`
        : "lime's feature statistics from every row of X"),
    );
    bars.replaceChildren(divergingBars(ex.conditions, decodeArray(ex.weights), { title: "weight" }));
    root.dataset.forValues = valuesKey(decodeArray(ex.for_values));
    root.dataset.weights = Array.from(decodeArray(ex.weights), (w) => w.toPrecision(6)).join(",");
    root.dataset.renderCount = String(++renderCount);
    root.dataset.drawnAt = String(performance.now());
  };

  const events = `change:explanation`;
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
