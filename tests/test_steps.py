"""Which optimizer steps a listener hears: those that update its model's parameters, however the
optimizer got them, and only while listener, model and optimizer live."""

import gc
import subprocess
import sys
import textwrap
import weakref

import torch
from torch import nn

from nnwidgets.core.steps import on_steps, want_before


class Counter:
    """Counts the steps it hears; has no ``before_step`` (a listener may do without one)."""

    def __init__(self) -> None:
        self.steps = 0

    def after_step(self, optimizer) -> None:
        self.steps += 1


class Around(Counter):
    def __init__(self) -> None:
        super().__init__()
        self.befores = 0
        self.in_step = False

    def before_step(self, optimizer) -> None:
        assert not self.in_step, "before_step came twice without an after_step"
        self.in_step = True
        self.befores += 1

    def after_step(self, optimizer) -> None:
        self.in_step = False
        super().after_step(optimizer)


def step(optimizer, *models):
    optimizer.zero_grad()
    sum(m(torch.ones(2, 3)).sum() for m in models).backward()
    optimizer.step()


def test_a_group_added_to_an_optimizer_is_heard_from_its_next_step():
    watched, other = nn.Linear(3, 2), nn.Linear(3, 2)
    counter = Counter()
    stop = on_steps(watched, counter)
    optimizer = torch.optim.SGD(other.parameters(), lr=0.1)
    step(optimizer, other)
    step(optimizer, other)
    assert counter.steps == 0
    optimizer.add_param_group({"params": list(watched.parameters())})
    step(optimizer, other, watched)
    assert counter.steps == 1
    stop()


def test_optimizers_made_and_dropped_in_turn_are_each_heard_for_their_own_model():
    """A new optimizer often takes the memory (and the id) of one just dropped."""
    watched, other = nn.Linear(3, 2), nn.Linear(3, 2)
    counter = Around()
    stop = on_steps(watched, counter)
    want_before(counter, True)
    for _ in range(25):
        optimizer = torch.optim.SGD(watched.parameters(), lr=0.1)
        step(optimizer, watched)
        del optimizer
        optimizer = torch.optim.SGD(other.parameters(), lr=0.1)
        step(optimizer, other)
        del optimizer
    assert (counter.befores, counter.steps) == (25, 25)
    stop()


def test_listening_keeps_neither_the_optimizer_nor_the_listener_alive():
    watched = nn.Linear(3, 2)
    counter = Counter()
    on_steps(watched, counter)
    optimizer = torch.optim.SGD(watched.parameters(), lr=0.1)
    step(optimizer, watched)
    optimizer_ref, counter_ref = weakref.ref(optimizer), weakref.ref(counter)
    del optimizer, counter
    gc.collect()
    assert optimizer_ref() is None and counter_ref() is None
    step(torch.optim.SGD(watched.parameters(), lr=0.1), watched)  # no listener left: nothing to call


def listening(listener):
    """A small model heard by ``listener``, its optimizer, and the function that stops listening."""
    watched = nn.Linear(3, 2)
    stop = on_steps(watched, listener)
    return watched, torch.optim.SGD(watched.parameters(), lr=0.1), stop


def test_a_stopped_listener_hears_no_more_steps():
    counter = Counter()
    watched, optimizer, stop = listening(counter)
    step(optimizer, watched)
    stop()
    step(optimizer, watched)
    assert counter.steps == 1


def test_before_step_is_called_only_while_wanted():
    counter = Around()
    watched, optimizer, stop = listening(counter)
    step(optimizer, watched)
    want_before(counter, True)
    step(optimizer, watched)
    step(optimizer, watched)
    want_before(counter, False)
    step(optimizer, watched)
    assert (counter.befores, counter.steps) == (2, 4)
    stop()
    want_before(counter, True)  # a stopped listener cannot want it again
    step(optimizer, watched)
    assert (counter.befores, counter.steps) == (2, 4)


def test_a_listener_that_does_not_want_before_step_is_not_called_while_another_does():
    watched = nn.Linear(3, 2)
    wanting, not_wanting = Around(), Around()
    stops = [on_steps(watched, wanting), on_steps(watched, not_wanting)]
    want_before(wanting, True)
    optimizer = torch.optim.SGD(watched.parameters(), lr=0.1)
    step(optimizer, watched)
    assert (wanting.befores, wanting.steps, not_wanting.befores, not_wanting.steps) == (1, 1, 0, 1)
    for stop in stops:
        stop()


def test_listeners_that_die_in_reference_cycles_never_deadlock_the_steps():
    """The cyclic garbage collector runs a dead listener's weak-reference callback wherever an allocation
    starts it, also inside this module while it holds its lock. Run apart: a deadlock would hang the run."""
    code = textwrap.dedent("""
        import gc, torch
        from nnwidgets.core import steps
        class Listener:
            def after_step(self, optimizer): pass
        net = torch.nn.Linear(2, 1)
        gc.set_threshold(50)
        for _ in range(5000):
            dead = Listener(); dead.me = dead; dead.junk = [[] for _ in range(10)]
            steps.on_steps(net, dead)  # never stopped: it goes when the collector finds the cycle
            del dead
            stop = steps.on_steps(net, Listener()); stop()
        gc.collect()
        counter = type("Counter", (), {"n": 0, "after_step": lambda self, o: setattr(self, "n", self.n + 1)})()
        steps.on_steps(net, counter)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        net(torch.ones(1, 2)).sum().backward(); optimizer.step()
        print(counter.n, len(steps._listeners))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    heard, listening = map(int, done.stdout.split())
    assert heard == 1 and listening == 1  # the dead ones were swept, not kept
