"""How many threads torch's operations use on nnwidgets' own threads while a model trains: one.

torch parallelises an operation with OpenMP. When a second thread runs parallel torch work, it gets its
own team of OpenMP threads beside the training thread's; with more of them than cores, libgomp stops
letting the training's idle workers spin, and every small parallel region of the training loop (Adam on
the CPU runs hundreds per step) then waits for a sleeping worker to wake up. On a 100 M-parameter MLP on
two cores, a thread running one parallel ``sum`` ten times a second made each optimizer step 10 % slower
while costing the machine far less than that; the same thread held to one OpenMP thread cost 1 %.
The team outlives the work: it is freed only when its thread ends. An idle thread that had once run a
parallel ``sum`` made notebook 03's small loop (2 ms steps) 2–3× slower on two cores, so threads of ours
that run torch end when their work does (the scheduler's workers retire as soon as they are idle).

OpenMP's thread count is set per thread (``omp_set_num_threads`` changes the calling thread's only), so
limiting ours leaves the user's threads as they were. The library is found with threadpoolctl (it knows
where each platform's torch keeps its OpenMP runtime); where there is none (a torch built without OpenMP),
nothing is changed.

>>> import threading, torch
>>> def background_work():
...     with one_thread_for_torch():
...         seen.append(torch.get_num_threads())
>>> seen = []
>>> thread = threading.Thread(target=background_work); thread.start(); thread.join()
>>> seen
[1]
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import torch

_lock = threading.Lock()
_openmp: list[Any] = []  # threadpoolctl's view of the OpenMP runtimes loaded, found once


def _openmp_runtimes() -> Any:
    with _lock:
        if not _openmp:
            from threadpoolctl import ThreadpoolController

            _openmp.append(ThreadpoolController().select(user_api="openmp"))
        return _openmp[0]


@contextlib.contextmanager
def one_thread_for_torch(when: bool = True) -> Iterator[None]:
    """Inside this block (``when`` true), torch's operations on the calling thread run on one thread;
    the thread's earlier count comes back after it. Whether to limit is decided on entry: work that began
    before a model started training keeps its threads until it ends."""
    if not when:
        yield
        return
    runtimes = _openmp_runtimes()
    if not runtimes.lib_controllers:
        yield
        return
    # torch sets a new thread's count on its first call there (to what torch.set_num_threads last set): that
    # must happen before the limit, or it would undo the limit inside and be undone by the limit's restoring after.
    torch.get_num_threads()
    with runtimes.limit(limits=1):
        yield
