// Attributions view: one block of diverging bars per method, features in integrated-gradients order.
import "./attributions.css";
import { decodeArray } from "./lib/array.js";
import { divergingBars, orderByMagnitude } from "./lib/diverging_bars.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { matrixRow } from "./lib/svg.js";
import { readValues, valuesKey } from "./lib/values.js";

const MAX_SHOWN = 20;

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-attributions");
  const head = el("div", "nnw-panel-head");
  const title = el("span", "nnw-title", "Attributions");
  const meta = el("span", "nnw-meta");
  const busy = busyIndicator();
  head.append(title, busy, meta);
  const methods = el("div", "nnw-attr-methods");
  const message = el("div", "nnw-message nnw-error");
  root.append(head, methods, message);
  host.appendChild(root);
  const names = model.get("features").names;
  let renderCount = 0;

  const draw = () => {
    showStatus(model, root, busy, message);
    const payload = model.get("attributions");
    if (!payload || !payload.values) return;
    const values = decodeArray(payload.values);
    const shape = payload.values.shape;
    const ig = matrixRow(values, shape, 2);
    const order = orderByMagnitude(ig);
    const classification = model.get("mode") === "classification";
    const target = classification ? model.get("class_names")[model.get("target_class")] : "the model";
    title.textContent = `Attributions · ${payload.output || model.get("output")} of ${target}`;
    const baseline = model.get("baseline");
    meta.textContent = `integrated gradients from the ${Array.isArray(baseline) ? "given" : baseline} row, ${model.get("steps")} steps, convergence error ${payload.delta.toExponential(1)}`;
    const current = readValues(model);
    const all = order.length;
    order.splice(MAX_SHOWN);  // the largest by |integrated gradients|; a long tail adds nothing readable
    meta.textContent += all > order.length ? ` · the ${order.length} largest of ${all} features` : "";
    methods.replaceChildren(
      ...payload.methods.map((method, m) => {
        const block = el("div", "nnw-attr-method");
        block.dataset.method = method;
        const row = matrixRow(values, shape, m);
        block.append(
          el("div", "nnw-section-title", method),
          divergingBars(order.map((j) => `${names[j]} = ${Number(current[j]).toPrecision(4)}`), order.map((j) => row[j]), { title: method }),
        );
        return block;
      }),
    );
    root.dataset.forValues = valuesKey(decodeArray(payload.for_values));
    root.dataset.renderCount = String(++renderCount);
    root.dataset.drawnAt = String(performance.now());
  };

  const events = `change:attributions change:baseline change:output change:steps change:target_class`;
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
