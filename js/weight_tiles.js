// WeightTiles view: one canvas per unit, its incoming weights as an image; click or arrows select.
import "./weight_tiles.css";
import { decodeArray } from "./lib/array.js";
import { paint } from "./lib/colormap.js";
import { el } from "./lib/dom.js";
import { formatExact } from "./lib/format.js";
import { announce, listen } from "./lib/lifecycle.js";
import { coalesce } from "./lib/schedule.js";
import { stepIndex } from "./lib/scales.js";

function render({ model, el: host, signal }) {
  const root = el("div", "nnw-root nnw-tiles");
  const head = el("div", "nnw-controls");
  const title = el("span", "nnw-title");
  head.append(title, el("span", "", "each tile: one unit's incoming weights; red +, blue −"));
  const grid = el("div", "nnw-tiles-grid");
  grid.tabIndex = 0;
  grid.setAttribute("role", "listbox");
  grid.setAttribute("aria-label", "units; arrow keys change the selection");
  root.append(head, grid);
  host.appendChild(root);
  let units = 0;
  let renderCount = 0;

  const select = (i) => {
    model.set("selected_unit", i);
    model.save_changes();
  };

  const draw = () => {
    const payload = model.get("tiles");
    if (!payload || !payload.values) return;
    const [n, h, w] = payload.values.shape;
    units = n;
    const values = decodeArray(payload.values);
    const limits = decodeArray(payload.limits);
    const lut = decodeArray(model.get("colormap"));
    const selected = model.get("selected_unit");
    title.textContent = `Weight tiles · layer ${model.get("layer")} · ${n} units of ${h}×${w}`;
    const cells = [];
    for (let i = 0; i < n; i++) {
      const cell = el("div", `nnw-tile${i === selected ? " nnw-selected" : ""}`);
      cell.setAttribute("role", "option");
      cell.setAttribute("aria-selected", String(i === selected));
      cell.dataset.unit = String(i);
      cell.title = `unit ${i}\nlargest |w| ${formatExact(limits[i], "float32")}`;
      const canvas = el("canvas");
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext("2d");
      const image = ctx.createImageData(w, h);
      paint(values.subarray(i * h * w, (i + 1) * h * w), limits[i], lut, image.data);
      ctx.putImageData(image, 0, 0);
      cell.append(canvas, el("div", "", String(i)));
      cell.addEventListener("click", () => select(i));
      cells.push(cell);
    }
    grid.replaceChildren(...cells);
    root.dataset.selected = String(selected);
    root.dataset.renderCount = String(++renderCount);
  };

  grid.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    select(stepIndex(model.get("selected_unit"), moves[event.key], units));
  });

  const events = "change:tiles change:selected_unit change:colormap change:layer";
  const redraw = coalesce(draw);
  const unlisten = listen(model, events, redraw);
  draw();
  return announce(model, signal, unlisten, host);
}

export default { render };
