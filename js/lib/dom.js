// DOM helpers. User text (layer, feature, class names) only ever goes in through textContent.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** A tooltip that follows the pointer inside `host` (which must be position: relative). */
export function tooltip(host) {
  const tip = el("div", "nnw-tooltip");
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  host.appendChild(tip);
  return {
    node: tip,
    show(lines, x, y) {
      tip.replaceChildren(...lines.map((line) => el("div", "", line)));
      tip.hidden = false;
      const hostWidth = host.clientWidth || 600;
      tip.style.left = `${Math.min(x + 12, Math.max(0, hostWidth - tip.offsetWidth - 4))}px`;
      tip.style.top = `${y + 14}px`;
    },
    hide() {
      tip.hidden = true;
    },
  };
}

/** Show `text` in a message node, or hide the node when there is none. */
export function showMessage(node, text) {
  node.hidden = !text;
  node.textContent = text || "";
}

/** Reflect a widget's `busy` and `error` traits: spinner, dimmed stale content, message. */
export function showStatus(model, root, spinner, message) {
  const busy = model.get("busy");
  spinner.hidden = !busy;
  root.classList.toggle("nnw-is-busy", busy);
  root.dataset.busy = String(busy);
  showMessage(message, model.get("error"));
}
