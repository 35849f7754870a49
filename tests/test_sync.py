"""Results, progress and selections reach the page from several threads at once: every change is
sent, none is lost, no thread fails."""

import sys
import threading

import numpy as np
import pytest
import traitlets

import nnwidgets as nw
from nnwidgets.core import decode_array
from planted import Planted, data


class Page:
    """What the front end holds: each widget's state, built from the update messages in order."""

    def __init__(self, views):
        self.state = {id(v): {} for v in views}
        self.lock = threading.Lock()
        for view in views:
            original = view._send

            def send(msg, buffers=None, _view=view, _original=original):
                if msg.get("method") == "update":
                    with self.lock:
                        state = dict(msg["state"])
                        for path, buffer in zip(msg.get("buffer_paths", []), buffers or []):
                            target = state
                            for key in path[:-1]:
                                target = target[key]
                            target[path[-1]] = buffer
                        self.state[id(_view)].update(state)
                return _original(msg, buffers)

            view._send = send

    def __getitem__(self, view):
        return self.state[id(view)]


@pytest.fixture
def busy_switching():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave as on a loaded machine
    yield
    sys.setswitchinterval(before)


def test_two_threads_moving_the_values_leave_the_page_on_the_last_values(busy_switching):
    X = data(rows=2_000, features=6)
    s = nw.Inspector(Planted(), X)
    views = [nw.InputEditor(s), nw.LimeExplainer(s, num_samples=200), nw.Attributions(s)]
    for view in views:
        view.wait()
    page = Page(views)
    failures = []
    hook, threading.excepthook = threading.excepthook, lambda args: failures.append(args.exc_value)
    try:
        for trial in range(4):
            def move(seed):
                rng = np.random.default_rng(seed)
                for _ in range(100):
                    s.values = rng.normal(size=6)

            threads = [threading.Thread(target=move, args=(10 * trial + k,)) for k in range(2)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            for view in views:
                view.wait()
            for view, trait in zip(views, ("prediction", "explanation", "attributions")):
                shown = page[view]
                assert decode_array(shown[trait]["for_values"]).tolist() == s.values.tolist(), (trial, trait)
                assert shown.get("busy", False) is False and shown.get("error", "") == ""
            assert np.allclose(decode_array(page[views[0]]["prediction"]["values"]), s.predict(s.values[None])[0])
    finally:
        threading.excepthook = hook
    assert failures == []


def test_a_view_set_while_another_thread_copies_the_selection_into_it_is_checked_and_followed():
    """Thread T changes the inspector's class, and so copies the selection into the editor; while T is inside
    that copy, the user sets the editor's row (thread U) and tries invalid values (this thread). The invalid
    values are refused, the row reaches the inspector, and view and inspector agree once both are done."""
    s = nw.Inspector(Planted(), data(rows=100, features=6))
    editor = nw.InputEditor(s).wait()
    inside, resume = threading.Event(), threading.Event()

    def hold_the_copy(_change):
        if threading.current_thread().name == "T" and not inside.is_set():
            inside.set()
            assert resume.wait(30)

    editor.observe(hold_the_copy, names="target_class")
    copier = threading.Thread(target=lambda: setattr(s, "target_class", 1), name="T")
    copier.start()
    assert inside.wait(30)
    with pytest.raises(traitlets.TraitError, match="6"):
        editor.values = [1e9] * 3
    user = threading.Thread(target=lambda: setattr(editor, "row", 42), name="U")
    user.start()
    resume.set()
    copier.join(30)
    user.join(30)
    assert s.row == 42 and s.target_class == 1
    assert (editor.row, editor.values, editor.target_class) == (42, s.values.tolist(), 1)


def test_a_closed_view_refuses_a_new_selection_clearly():
    s = nw.Inspector(Planted(), data(rows=100, features=6))
    editor = nw.InputEditor(s).wait()
    editor.close()
    with pytest.raises(traitlets.TraitError, match="closed"):
        editor.row = 3
