"""The same training loop in a process that never imports nnwidgets: bench_training's "fresh" arm.

What nnwidgets costs a loop it does not watch (its threads, its imports, what they leave behind) shows
only against a process without it. bench_training saves the model and batch with ``torch.save`` and
starts this script with that file; each line ``run SECONDS MIN_STEPS`` on stdin runs one block of
full-batch Adam steps (each keeping its loss, as the parent's unwatched loops do) and answers one JSON
line ``{"times": [...], "faults": N}`` (step times in seconds, minor page faults meanwhile); ``quit``
ends it. With ``--steady-allocator`` glibc's malloc thresholds
are fixed first, as in the parent.

Run by hand: ``python bench/fresh_loop.py model.pt`` then type ``run 1 10``."""

from __future__ import annotations

import ctypes
import json
import resource
import sys
import time
from collections import deque

import torch
from torch import nn


def steady_allocator() -> None:
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    if not (libc.mallopt(M_MMAP_THRESHOLD, 64 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)):
        raise RuntimeError("mallopt refused the thresholds")


def main(args: list[str]) -> None:
    if "--steady-allocator" in args:
        steady_allocator()
    model, inputs, targets = torch.load(args[0], weights_only=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    losses = deque(maxlen=100_000)

    def step() -> None:  # the parent's unwatched loop: it keeps its loss curve itself
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    step()  # warm up, as the parent's arms do
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            return
        seconds, min_steps = float(words[1]), int(words[2])
        times, start = [], time.perf_counter()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        while time.perf_counter() - start < seconds or len(times) < min_steps:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        print(json.dumps({"times": times, "faults": faults}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
