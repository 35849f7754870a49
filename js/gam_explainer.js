// GamExplainer view: partial-dependence small multiples with 95 % bands, rug, the current row,
// its per-feature contributions, and the surrogate's fidelity.
import "./gam_explainer.css";
import { decodeArray } from "./lib/array.js";
import { divergingBars } from "./lib/diverging_bars.js";
import { STATUS_EVENTS, busyIndicator, el, showStatus } from "./lib/dom.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { extent, linearScale, matrixRow, pathData, svg } from "./lib/svg.js";
import { readValues, valuesKey } from "./lib/values.js";

const TOP_CONTRIBUTIONS = 10;

/** One partial-dependence plot: band, curve, rug, zero line and the current row's marker. */
export function curvePlot(curve, width, height, { axes = false } = {}) {
  const pad = axes ? { l: 38, r: 6, t: 6, b: 18 } : { l: 4, r: 4, t: 4, b: 8 };
  const [x0, x1] = extent(curve.grid, curve.rug);
  const [y0, y1] = extent(curve.lower, curve.upper, [0, curve.contribution]);
  const x = linearScale([x0, x1], [pad.l, width - pad.r]);
  const y = linearScale([y0, y1], [height - pad.b, pad.t]);
  const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  plot.appendChild(svg("path", { class: "nnw-band", d: pathData(curve.grid, curve.upper, x, y, curve.lower) }));
  plot.appendChild(svg("line", { class: "nnw-zero", x1: pad.l, x2: width - pad.r, y1: y(0), y2: y(0) }));
  plot.appendChild(svg("path", { class: "nnw-effect", d: pathData(curve.grid, curve.effect, x, y) }));
  let rug = "";
  for (const v of curve.rug) rug += `M${x(v).toFixed(1)},${height - pad.b + 1}v5`;
  plot.appendChild(svg("path", { class: "nnw-rug", d: rug }));
  if (Number.isFinite(curve.value) && Number.isFinite(curve.contribution)) {
    const cx = x(Math.min(x1, Math.max(x0, curve.value)));
    plot.appendChild(svg("line", { class: "nnw-marker-line", x1: cx, x2: cx, y1: pad.t, y2: height - pad.b }));
    const dot = svg("circle", { class: "nnw-marker", cx, cy: y(curve.contribution), r: axes ? 5 : 3.5 });
    dot.appendChild(svg("title", {}, `value ${curve.value}\ncontribution ${curve.contribution}`));
    plot.appendChild(dot);
  }
  if (axes) {
    for (const v of [y0, 0, y1]) plot.appendChild(svg("text", { class: "nnw-axis-text", x: 2, y: y(v) + 3 }, v.toPrecision(2)));
    plot.appendChild(svg("text", { class: "nnw-axis-text", x: pad.l, y: height - 1 }, x0.toPrecision(3)));
    plot.appendChild(svg("text", { class: "nnw-axis-text", x: width - pad.r, y: height - 1, "text-anchor": "end" }, x1.toPrecision(3)));
  }
  return plot;
}

function readCurves(payload) {
  const order = decodeArray(payload.order);
  const shape = payload.grid.shape;
  const grid = decodeArray(payload.grid);
  const effect = decodeArray(payload.effect);
  const lower = decodeArray(payload.lower);
  const upper = decodeArray(payload.upper);
  const rug = decodeArray(payload.rug);
  const importance = decodeArray(payload.importance);
  return Array.from(order, (feature, i) => ({
    feature,
    importance: importance[i],
    grid: matrixRow(grid, shape, i),
    effect: matrixRow(effect, shape, i),
    lower: matrixRow(lower, shape, i),
    upper: matrixRow(upper, shape, i),
    rug: matrixRow(rug, payload.rug.shape, i),
  }));
}

const MAX_CURVES = 30; // small multiples drawn at first, most important first

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-gam");
  const head = el("div", "nnw-panel-head");
  const title = el("span", "nnw-title", "GAM surrogate · global explanation");
  const busy = busyIndicator();
  head.append(title, busy);
  const fidelity = el("div", "nnw-panel-head nnw-fidelity");
  const enlarged = el("div", "nnw-enlarged");
  const grid = el("div", "nnw-multiples nnw-stale");
  const contribTitle = el("div", "nnw-section-title", "This row, term by term");
  let showAll = false;
  const more = el("button", "nnw-button nnw-more-curves");
  more.type = "button";
  more.addEventListener("click", () => {
    showAll = !showAll;
    draw();
  });
  const contributions = el("div", "nnw-stale");
  const message = el("div", "nnw-message nnw-error");
  root.append(head, fidelity, enlarged, grid, more, contribTitle, contributions, message);
  host.appendChild(root);
  const names = model.get("features").names;
  let curves = [];
  let renderCount = 0;

  const select = (feature) => {
    model.set("selected_feature", model.get("selected_feature") === feature ? -1 : feature);
    model.save_changes();
  };

  const draw = () => {
    showStatus(model, root, busy, message);
    const payload = model.get("curves");
    if (!payload || !payload.order) return;
    curves = readCurves(payload);
    const classification = model.get("mode") === "classification";
    const target = classification ? `${payload.target} of ${model.get("class_names")[model.get("target_class")]}` : "the model's output";
    title.textContent = `GAM surrogate of ${target}`;
    // Which rows were fitted and scored, e.g. "fitted on 4,000 of 1,000,000 rows …; fidelity on 10,000 held-out rows".
    const parts = [`${payload.split}: R² ${payload.fidelity_r2.toFixed(3)}`];
    if (payload.fidelity_accuracy !== null) parts.push(`agreement ${(payload.fidelity_accuracy * 100).toFixed(1)}%`);
    if (payload.screened) parts.push(payload.screened);
    if (payload.n_splines < payload.asked_splines) parts.push(`${payload.n_splines} splines per feature (${curves.length} features)`);
    if (payload.constant_features.length) parts.push(`constant, left out: ${payload.constant_features.join(", ")}`);
    fidelity.replaceChildren(el("span", "nnw-meta", parts.join(" · ")));
    fidelity.firstChild.title = "how closely the additive surrogate reproduces the model on rows it was not fitted to";

    const terms = model.get("row_terms");
    const values = readValues(model);
    const contrib = terms && terms.contributions ? decodeArray(terms.contributions) : null;
    for (const c of curves) {
      c.value = values[c.feature];
      c.contribution = contrib ? contrib[c.feature] : NaN;
    }
    const selected = model.get("selected_feature");
    const shown = showAll ? curves : curves.slice(0, MAX_CURVES);
    more.hidden = curves.length <= MAX_CURVES;
    more.textContent = showAll ? `show the ${MAX_CURVES} most important` : `show all ${curves.length} features`;
    grid.replaceChildren(
      ...shown.map((c) => {
        const cell = el("div", `nnw-curve${c.feature === selected ? " nnw-selected" : ""}`);
        cell.tabIndex = 0;
        cell.dataset.feature = String(c.feature);
        cell.title = `${names[c.feature]}\nimportance (spread of its term) ${c.importance.toPrecision(3)}\nclick to enlarge`;
        cell.append(el("div", "nnw-curve-title", names[c.feature]), curvePlot(c, 170, 90));
        cell.addEventListener("click", () => select(c.feature));
        cell.addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && select(c.feature));
        return cell;
      }),
    );
    const big = curves.find((c) => c.feature === selected);
    enlarged.hidden = !big;
    if (big) enlarged.replaceChildren(el("div", "nnw-title", names[big.feature]), curvePlot(big, 480, 220, { axes: true }));

    if (contrib) {
      const top = [...curves].sort((a, b) => Math.abs(contrib[b.feature]) - Math.abs(contrib[a.feature])).slice(0, TOP_CONTRIBUTIONS);
      contributions.replaceChildren(
        el("div", "nnw-meta", `surrogate ${terms.surrogate_prediction.toPrecision(4)} = intercept ${payload.intercept.toPrecision(4)} + terms · model ${terms.model_prediction.toPrecision(4)}`),
        divergingBars(top.map((c) => `${names[c.feature]} = ${Number(values[c.feature]).toPrecision(4)}`), top.map((c) => contrib[c.feature]), { title: "contribution" }),
      );
      root.dataset.forValues = valuesKey(decodeArray(terms.for_values));
      root.dataset.markers = curves.map((c) => `${c.feature}:${Number(c.value).toPrecision(6)}`).join(",");
    }
    root.dataset.renderCount = String(++renderCount);
  };

  const events = `change:curves change:row_terms change:selected_feature change:values change:target_class`;
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
