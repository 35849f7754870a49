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
