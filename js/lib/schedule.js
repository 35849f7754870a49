// Several trait changes arrive together (one Python update); draw once for all of them.

/** Wrap `draw` so that calls within the same task run it once, in a microtask. */
export function coalesce(draw) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      draw();
    });
  };
}
