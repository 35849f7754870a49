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

/** A status indicator: spinner, what runs ("fitting a GAM to 20,000 rows"), and how far. */
export function busyIndicator() {
  const node = el("span", "nnw-status");
  node.setAttribute("role", "status");
  node.setAttribute("aria-live", "polite");
  const spinner = el("span", "nnw-busy-indicator");
  const text = el("span", "nnw-status-text");
  const bar = el("progress", "nnw-progress");
  bar.max = 1;
  node.append(spinner, text, bar);
  return node;
}

/** The status line's words: the running work and, when known, its share done. */
export function statusText(status, progress) {
  if (!status) return "";
  return progress > 0 && progress < 1 ? `${status}… ${Math.round(progress * 100)} %` : `${status}…`;
}

/** Reflect a widget's `busy`, `status`, `progress` and `error` traits: the status indicator (made
 * by busyIndicator), dimmed stale content, the error message. */
export function showStatus(model, root, indicator, message) {
  const busy = model.get("busy");
  const status = model.get("status") || "";
  const progress = model.get("progress") ?? -1;
  const [spinner, text, bar] = indicator.children;
  indicator.hidden = !busy && !status;
  spinner.hidden = !busy;
  text.textContent = busy ? statusText(status, progress) : status;
  bar.hidden = !busy || !(progress > 0 && progress < 1);
  if (!bar.hidden) bar.value = progress;
  indicator.title = text.textContent;
  root.classList.toggle("nnw-is-busy", busy);
  root.dataset.busy = String(busy);
  root.dataset.status = status;
  showMessage(message, model.get("error"));
}

/** The trait changes every view redraws its status on. */
export const STATUS_EVENTS = "change:busy change:status change:progress change:error";
