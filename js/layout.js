// Layout view: several views of one inspector in rows, columns, tabs and collapsible sections, each
// child drawn by its own view through anywidget's composition API (`host.getWidget`), so one widget
// renders the whole layout in JupyterLab, Notebook 7, VS Code and marimo alike.
import "./layout.css";
import { el } from "./lib/dom.js";
import { announce } from "./lib/lifecycle.js";
import { stepIndex } from "./lib/scales.js";

function mountChild(widgets, ref, signal, index) {
  const slot = el("div", "nnw-slot");
  slot.dataset.child = String(index);
  widgets
    .getWidget(ref)
    .then((child) => child.render({ el: slot, signal }))
    .catch((error) => {
      slot.appendChild(el("div", "nnw-message nnw-error", `could not draw this view: ${error.message || error}`));
    });
  return slot;
}

function tabsNode(node, build, model) {
  const box = el("div", "nnw-tabs");
  const list = el("div", "nnw-tablist");
  list.setAttribute("role", "tablist");
  const panels = node.items.map(() => el("div", "nnw-tabpanel"));
  const built = new Set();
  const buttons = node.titles.map((title, i) => {
    const button = el("button", "nnw-tab", title);
    button.type = "button";
    button.setAttribute("role", "tab");
    button.addEventListener("click", () => select(i, true));
    return button;
  });
  const select = (i, fromUser) => {
    if (!built.has(i)) {
      panels[i].appendChild(build(node.items[i]));  // drawn when first shown: hidden panes cost nothing
      built.add(i);
    }
    buttons.forEach((b, j) => {
      b.setAttribute("aria-selected", String(i === j));
      b.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
    box.dataset.selected = String(i);
    if (fromUser && model.get("selected_tab") !== i) {
      model.set("selected_tab", i);
      model.save_changes();
    }
  };
  list.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const current = Number(box.dataset.selected);
    const delta = moves[event.key];
    const next = Number.isFinite(delta) ? stepIndex(current, delta, buttons.length) : delta < 0 ? 0 : buttons.length - 1;
    select(next, true);
    buttons[next].focus();
  });
  panels.forEach((panel, i) => {
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-label", node.titles[i]);
  });
  list.append(...buttons);
  box.append(list, ...panels);
  return { box, select };
}

async function render({ model, el: host, signal, host: widgets }) {
  const root = el("div", `nnw-root nnw-layout ${model.get("css_class")}`);
  host.appendChild(root);
  const refs = model.get("children");
  let tabs = null;
  const onTab = () => tabs && tabs.select(Math.min(model.get("selected_tab"), tabs.count - 1), false);
  const end = announce(model, signal, () => model.off("change:selected_tab", onTab), host);
  if (!widgets || !widgets.getWidget) {
    root.appendChild(el("div", "nnw-message nnw-error", "This layout needs anywidget 0.11 or newer (widget composition)."));
    return end;
  }
  const build = (node) => {
    if (node.kind === "widget") return mountChild(widgets, refs[node.index], signal, node.index);
    if (node.kind === "row" || node.kind === "column") {
      const box = el("div", `nnw-layout-${node.kind}`);
      box.append(...node.items.map(build));
      return box;
    }
    if (node.kind === "section") {
      const details = el("details", "nnw-section");
      details.open = node.open;
      details.append(el("summary", "nnw-section-summary", node.title), build(node.item));
      return details;
    }
    if (node.kind === "tabs") {
      const made = tabsNode(node, build, model);
      tabs = { select: made.select, count: node.items.length };
      made.select(Math.min(model.get("selected_tab"), node.items.length - 1), false);
      return made.box;
    }
    return el("div", "nnw-message nnw-error", `unknown layout part ${node.kind}`);
  };
  root.appendChild(build(model.get("arrangement")));
  model.on("change:selected_tab", onTab);
  return end;
}

export default { render };
