"""The model run on rows of feature values: raw outputs as float64, through the thread's shadow, in
chunks, with optional capture of chosen layers' inputs and outputs."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from .shadow import ShadowModel, check_runnable

MAX_BATCH = 8192
Capture = Callable[[int, dict[str, tuple[torch.Tensor | None, torch.Tensor]]], None]


def model_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype of the model's first floating parameter (float32 without one)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def model_device(model: nn.Module) -> torch.device:
    """Where the model's first parameter (or buffer) lives: inputs are sent there."""
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.device("cpu")


def first_tensor(value: object) -> torch.Tensor | None:
    """The tensor itself, or the first tensor inside a tuple/list (what a hook or module returns)."""
    while isinstance(value, (tuple, list)) and value:
        value = value[0]
    return value if isinstance(value, torch.Tensor) else None


def output_matrix(out: object, rows: int) -> torch.Tensor:
    """The model's output as rows × columns, or a ``ValueError`` saying what an explanation needs."""
    if not isinstance(out, torch.Tensor):
        raise ValueError(
            f"the model returned a {type(out).__name__}; explanation views need one tensor with a row of "
            "outputs per input row: wrap the model so that forward() returns that tensor"
        )
    if out.dim() == 1 and out.shape[0] == rows:
        return out[:, None]
    if out.dim() != 2 or out.shape[0] != rows:
        raise ValueError(
            f"the model returned outputs of shape {tuple(out.shape)} for {rows} input rows; explanation views need "
            f"({rows}, outputs): one row of class scores or one regression value per input row"
        )
    return out


class Predictor:
    """Runs ``model`` (through a :class:`ShadowModel`) on rows of raw feature values.

    ``preprocess`` turns raw values into model inputs (a scaler, say). Every call is logged in
    ``passes`` (rows per call) so that duplicate work can be counted.
    """

    def __init__(self, model: nn.Module, preprocess: Callable[[np.ndarray], object] | None = None, max_batch: int = MAX_BATCH) -> None:
        self.model = model
        self.preprocess = preprocess
        self.max_batch = max_batch
        self.shadows = ShadowModel(model)
        self.input_shape: tuple[int, ...] | None = None  # for pictures: rows are reshaped to (n, *input_shape)
        self.passes: deque[int] = deque(maxlen=10_000)
        self._log_lock = threading.Lock()

    def inputs(self, rows: np.ndarray) -> torch.Tensor:
        """Model inputs for rows of raw values (pictures: reshaped to (n, C, H, W) first): preprocessed, cast
        on the CPU, then moved to the model's device."""
        if self.input_shape is not None:
            rows = np.asarray(rows).reshape(-1, *self.input_shape)
        batch = self.preprocess(rows) if self.preprocess is not None else rows
        if not isinstance(batch, torch.Tensor):
            batch = np.asarray(batch)
            batch = batch if batch.flags.writeable else batch.copy()  # torch warns on read-only arrays
        tensor = batch if isinstance(batch, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(batch))
        return tensor.to(dtype=model_dtype(self.model)).to(model_device(self.model))

    def raw(self, rows: np.ndarray, version: int, *, capture: Capture | None = None, names: tuple[str, ...] = (),
            check: Callable[[], None] | None = None, progress: Callable[[float], None] | None = None) -> np.ndarray:
        """The model's outputs for ``rows`` (rows × columns, float64), in chunks of ``max_batch`` rows;
        a chunk the device has no memory for is retried in halves, and later chunks stay that small.

        With ``capture``, the inputs and outputs of the modules named in ``names`` are handed to
        ``capture(first_row, {name: (input, output)})`` for each chunk, as tensors on the model's device.
        """
        rows = np.asarray(rows)  # float32 data stays float32: each chunk is converted on its own
        check_runnable(self.model)
        with self._log_lock:
            self.passes.append(len(rows))
        chunks = []
        with self.shadows.use(version) as shadow, self._hooks(shadow, names, capture) as seen:

            def run(start: int, stop: int) -> None:
                part = np.asarray(rows[start:stop], dtype=np.float64)
                seen.clear()
                out = output_matrix(shadow(self.inputs(part)), len(part))
                if capture is not None:
                    capture(start, dict(seen))
                chunks.append(tensor_to_float64(out))

            self._in_chunks(len(rows), run, check, progress)
        return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]

    def gradients(self, inputs: torch.Tensor, version: int, score: Callable[[torch.Tensor], torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        """``score`` (one value per row of the model's outputs) at each row of ``inputs`` (model inputs),
        and its gradient with respect to them: a forward and a backward pass of the shadow per chunk."""
        check_runnable(self.model)
        with self._log_lock:
            self.passes.append(len(inputs))
        values, grads = [], []
        # Autograd even when the caller sits in torch.inference_mode() or no_grad().
        with torch.inference_mode(False), self.shadows.use(version, grad=True) as shadow:

            def run(start: int, stop: int) -> None:
                batch = inputs[start:stop].detach().clone().requires_grad_(True)
                f = score(output_matrix(shadow(batch), len(batch)))
                (g,) = torch.autograd.grad(f.sum(), batch)
                values.append(tensor_to_float64(f))
                grads.append(tensor_to_float64(g))

            self._in_chunks(len(inputs), run)
        return np.concatenate(values), np.concatenate(grads)

    def _in_chunks(self, n: int, run: Callable[[int, int], None], check: Callable[[], None] | None = None,
                   progress: Callable[[float], None] | None = None) -> None:
        """``run(start, stop)`` over ``range(n)`` in chunks of ``max_batch``. A chunk the device has no
        memory for is tried again at half the size, and ``max_batch`` stays there for later calls."""
        start = 0
        while start < n:
            if check is not None:
                check()
            size = self.max_batch
            try:
                run(start, min(n, start + size))
            except torch.OutOfMemoryError:
                if size == 1:
                    raise
                with self._log_lock:
                    self.max_batch = min(self.max_batch, size // 2)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            start = min(n, start + size)
            if progress is not None:
                progress(start / n)

    @contextlib.contextmanager
    def _hooks(self, shadow: nn.Module, names: tuple[str, ...], capture: Capture | None) -> Iterator[dict]:
        """Forward hooks on the shadow's named modules for one call (the live model never sees them)."""
        seen: dict[str, tuple[torch.Tensor | None, torch.Tensor]] = {}
        handles = []
        if capture is not None:
            modules = dict(shadow.named_modules())

            def keep(name: str) -> Callable[..., None]:
                def hook(_module: nn.Module, inputs: Any, output: Any) -> None:
                    out = first_tensor(output)
                    if out is not None:
                        seen[name] = (first_tensor(inputs), out.detach())
                return hook

            handles = [modules[name].register_forward_hook(keep(name)) for name in names if name in modules]
        try:
            yield seen
        finally:
            for handle in handles:
                handle.remove()


def tensor_to_float64(t: torch.Tensor) -> np.ndarray:
    """A tensor (any float dtype, any device) as a float64 numpy array; float64 is never asked of the device."""
    t = t.detach()
    if t.dtype != torch.float64:
        t = t.float()
    return t.cpu().numpy().astype(np.float64, copy=False)
