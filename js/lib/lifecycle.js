// A view tells Python when it appears and when it goes (its cell re-ran or was cleared): views out
// of sight do no work, and views nobody can reach any more are closed (nnwidgets/_live.py).

/** Announce this view, drawn into `el`; returns the cleanup that undoes `detach` and announces its
 * end (once). A view drawn inside a layout says so: the layout may park it while its tab is hidden. */
export function announce(model, signal, detach, el) {
  const inLayout = Boolean(el?.closest?.(".nnw-slot"));
  const send = (shown) => {
    try {
      model.send({ event: "view", shown, in_layout: inLayout });
    } catch {
      // The kernel is gone: nothing to tell.
    }
  };
  send(true);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    detach();
    send(false);
  };
  signal?.addEventListener("abort", end, { once: true });
  return end;
}

/** Call `callback` on each of the space-separated `events`, registered one by one: hosts other than
 * Jupyter's Backbone models (marimo) take one event name per `model.on`. Returns the undo. */
export function listen(model, events, callback) {
  const names = events.split(/\s+/).filter(Boolean);
  for (const name of names) model.on(name, callback);
  return () => {
    for (const name of names) model.off(name, callback);
  };
}
