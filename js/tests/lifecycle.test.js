import assert from "node:assert/strict";
import { test } from "node:test";
import { announce, listen } from "../lib/lifecycle.js";

function fakeModel() {
  const handlers = new Map();
  const sent = [];
  return {
    sent,
    handlers,
    on(name, cb) {
      assert.ok(!/\s/.test(name), `one event name per call, got ${JSON.stringify(name)}`);
      handlers.set(name, [...(handlers.get(name) || []), cb]);
    },
    off(name, cb) {
      handlers.set(name, (handlers.get(name) || []).filter((h) => h !== cb));
    },
    fire(name) {
      for (const h of handlers.get(name) || []) h();
    },
    send(msg) {
      sent.push(msg);
    },
  };
}

test("listen registers each event on its own and undoes all of them", () => {
  const model = fakeModel();
  let calls = 0;
  const undo = listen(model, "change:a  change:b\nchange:c", () => calls++);
  model.fire("change:a");
  model.fire("change:c");
  assert.equal(calls, 2);
  undo();
  model.fire("change:b");
  assert.equal(calls, 2);
});

test("announce tells Python the view appeared, then once that it went, on cleanup or abort", () => {
  const model = fakeModel();
  let detached = 0;
  const controller = new AbortController();
  const end = announce(model, controller.signal, () => detached++);
  assert.deepEqual(model.sent, [{ event: "view", shown: true, in_layout: false }]);
  controller.abort();
  end();
  assert.equal(detached, 1);
  assert.deepEqual(model.sent, [{ event: "view", shown: true, in_layout: false }, { event: "view", shown: false, in_layout: false }]);
});

test("a view drawn into a layout's slot says so", () => {
  const model = fakeModel();
  const slot = { closest: (selector) => (selector === ".nnw-slot" ? slot : null) };
  const alone = { closest: () => null };
  announce(model, null, () => {}, slot);
  announce(model, null, () => {}, alone);
  assert.deepEqual(model.sent.map((m) => m.in_layout), [true, false]);
});

test("announce survives a model whose kernel is gone", () => {
  const model = fakeModel();
  model.send = () => {
    throw new Error("closed");
  };
  const end = announce(model, undefined, () => {});
  end();
});
