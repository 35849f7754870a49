"""Training a model on its data at the user's explicit request: seeded mini-batches, a named loss and
optimizer, a history of the loss (and batch accuracy), and a reset to the exact initial weights.

This is the one place in nnwidgets that changes a model's weights, and the one place that copies
them (:class:`InitialState`, for ``reset``). No Jupyter imports: usable in scripts.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .history import History
from .model_version import is_lazy
from .predictor import model_device, model_dtype

LOSSES = ("cross_entropy", "mse")
OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any]]] = {
    "adam": (torch.optim.Adam, {}),
    "sgd": (torch.optim.SGD, {}),
    "sgd_momentum": (torch.optim.SGD, {"momentum": 0.9}),
    "rmsprop": (torch.optim.RMSprop, {}),
    "adamw": (torch.optim.AdamW, {}),
}

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def check_lr(lr: object) -> float:
    """``lr`` as a positive finite float, or a ``ValueError``/``TypeError`` saying what is expected.

    >>> check_lr(1e-3)
    0.001
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)):
        raise TypeError(f"lr must be a positive number, got {type(lr).__name__}")
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, got {lr}")
    return float(lr)


def check_batch_size(batch_size: object) -> int:
    """``batch_size`` as an int ≥ 1.

    >>> check_batch_size(32)
    32
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be a whole number ≥ 1, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return int(batch_size)


def optimizer_class(optimizer: object) -> tuple[str, type[torch.optim.Optimizer], dict[str, Any]]:
    """(name, class, extra keyword arguments) for a known name or a ``torch.optim.Optimizer`` subclass.

    >>> optimizer_class("sgd_momentum")[2]
    {'momentum': 0.9}
    """
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}, "
                             f"or a torch.optim.Optimizer class")
        cls, extra = OPTIMIZERS[optimizer]
        return optimizer, cls, dict(extra)
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer.__name__, optimizer, {}
    raise TypeError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))} or a torch.optim.Optimizer class "
                    f"(not an instance), got {optimizer!r}")


def loss_function(loss: object) -> tuple[str, LossFunction]:
    """(name, function(outputs, targets) → scalar) for ``"cross_entropy"``, ``"mse"`` or a callable."""
    if isinstance(loss, str):
        if loss == "cross_entropy":
            return loss, _cross_entropy
        if loss == "mse":
            return loss, _mse
        raise ValueError(f"unknown loss {loss!r}; expected 'cross_entropy' (classification, y = class indices), "
                         f"'mse' (regression), or a callable(outputs, targets) returning a scalar tensor")
    if callable(loss):
        return getattr(loss, "__name__", type(loss).__name__), loss
    raise TypeError(f"loss must be 'cross_entropy', 'mse' or a callable(outputs, targets), got {type(loss).__name__}")


def _cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if outputs.dim() != 2 or outputs.shape[1] < 2:
        raise ValueError(f"loss 'cross_entropy' needs model outputs of shape (batch, classes) with at least 2 "
                         f"classes (one logit per class), got {tuple(outputs.shape)}; for one output use 'mse' "
                         f"or a callable loss such as torch.nn.functional.binary_cross_entropy_with_logits")
    top = int(targets.max())
    if top >= outputs.shape[1]:
        raise ValueError(f"y holds class index {top} but the model outputs only {outputs.shape[1]} classes")
    return F.cross_entropy(outputs, targets)


def _mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if targets.shape != outputs.shape:
        if outputs.numel() != targets.numel():
            raise ValueError(f"loss 'mse' needs one model output per target: outputs {tuple(outputs.shape)}, "
                             f"targets {tuple(targets.shape)}")
        targets = targets.reshape(outputs.shape)
    return F.mse_loss(outputs, targets)


def batch_order(n_rows: int, seed: int) -> "Batches":
    """The mini-batch order: epoch after epoch, ``torch.randperm(n_rows, generator=g)`` with one
    ``g = torch.Generator().manual_seed(seed)``; each batch is the next ``batch_size`` indices of the
    current permutation (the epoch's last batch may be shorter).

    >>> b = batch_order(5, seed=0)
    >>> g = torch.Generator().manual_seed(0)
    >>> first = torch.randperm(5, generator=g)
    >>> b.next(2).tolist() == first[:2].tolist(), b.next(4).tolist() == first[2:].tolist(), b.epochs
    (True, True, 1)
    """
    return Batches(n_rows, seed)


class Batches:
    """Seeded shuffled mini-batches over ``n_rows`` rows (see :func:`batch_order`)."""

    def __init__(self, n_rows: int, seed: int) -> None:
        self.n_rows = n_rows
        self.seed = seed
        self.restart()

    def restart(self) -> None:
        self._generator = torch.Generator().manual_seed(self.seed)
        self._order = torch.randperm(self.n_rows, generator=self._generator)
        self._position = 0
        self.epochs = 0
        self.samples = 0

    def next(self, batch_size: int) -> torch.Tensor:
        batch = self._order[self._position:self._position + batch_size]
        self._position += len(batch)
        self.samples += len(batch)
        if self._position >= self.n_rows:
            self.epochs += 1
            self._order = torch.randperm(self.n_rows, generator=self._generator)
            self._position = 0
        return batch


class InitialState:
    """A copy of every parameter and buffer of ``model`` (by name), put back in place by ``restore``:
    ``copy_`` into the same tensors under ``no_grad``, so optimizers and views keep their references."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self._saved = {}
        for name, tensor in self._tensors().items():
            if is_lazy(tensor):
                raise TypeError(f"{name} is an uninitialized (lazy) parameter: run one batch through the model "
                                f"before training it with a Trainer, so the initial weights exist")
            self._saved[name] = tensor.detach().clone()

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {**{f"parameter {n}": p for n, p in self.model.named_parameters()},
                **{f"buffer {n}": b for n, b in self.model.named_buffers()}}

    def restore(self) -> None:
        live = self._tensors()
        if live.keys() != self._saved.keys():
            missing, new = sorted(self._saved.keys() - live.keys()), sorted(live.keys() - self._saved.keys())
            raise ValueError(f"the model's tensors changed since the Trainer was made (missing: {missing[:4]}, "
                             f"new: {new[:4]}): make a new Trainer")
        with torch.no_grad():
            for name, tensor in live.items():
                saved = self._saved[name]
                if tensor.shape != saved.shape or tensor.dtype != saved.dtype:
                    raise ValueError(f"{name} changed shape or dtype since the Trainer was made "
                                     f"({tuple(saved.shape)} {saved.dtype} → {tuple(tensor.shape)} {tensor.dtype})")
                tensor.copy_(saved)

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self._saved.values())


@dataclass(frozen=True)
class StepResult:
    step: int
    loss: float
    accuracy: float | None


class TrainingLoop:
    """Trains ``model`` on rows of data, one mini-batch per :meth:`step`.

    ``inputs(indices)`` gives the model's input tensor for rows ``indices`` (an int64 tensor);
    ``targets`` holds one target per row (class indices for ``"cross_entropy"``). Thread-safe: steps,
    resets and option changes take one lock.

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> X = torch.randn(64, 2); y = (X[:, 0] > 0).long()
    >>> net = nn.Linear(2, 2)
    >>> loop = TrainingLoop(net, lambda i: X[i], y, loss="cross_entropy", optimizer="adam", lr=0.1, batch_size=16)
    >>> first = loop.step().loss
    >>> for _ in range(50): last = loop.step().loss
    >>> last < first, loop.steps, loop.epoch
    (True, 51, 12.75)
    """

    def __init__(self, model: nn.Module, inputs: Callable[[torch.Tensor], Any], targets: torch.Tensor, *,
                 loss: object = "cross_entropy", optimizer: object = "adam", lr: float = 1e-3,
                 batch_size: int = 64, seed: int = 0) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not any(p.requires_grad for p in model.parameters()):
            raise ValueError(f"{type(model).__name__} has no parameters that require grad: nothing to train")
        self.model = model
        self.inputs = inputs
        self.targets = targets
        self.n_rows = len(targets)
        self.loss_name, self.loss_fn = loss_function(loss)
        self.lr = check_lr(lr)
        self.batch_size = check_batch_size(batch_size)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        self.optimizer_name, self._optimizer_cls, self._optimizer_extra = optimizer_class(optimizer)
        self.lock = threading.RLock()
        self.history = History()
        self.batches = Batches(self.n_rows, int(seed))
        self.initial = InitialState(model)
        self.steps = 0
        self.last_loss: float | None = None
        self.optimizer = self._new_optimizer()

    @property
    def classification(self) -> bool:
        """Whether batch accuracy is recorded: integer targets (class indices)."""
        return not self.targets.is_floating_point() and not self.targets.is_complex()

    @property
    def epoch(self) -> float:
        """Passes over the data so far (samples seen / rows)."""
        return self.batches.samples / self.n_rows

    def _new_optimizer(self) -> torch.optim.Optimizer:
        params = [p for p in self.model.parameters() if p.requires_grad]
        try:
            return self._optimizer_cls(params, lr=self.lr, **self._optimizer_extra)
        except TypeError as error:
            raise TypeError(f"could not make optimizer {self.optimizer_name} with lr={self.lr}: {error}") from None

    def set_lr(self, lr: float) -> None:
        lr = check_lr(lr)
        with self.lock:
            self.lr = lr
            for group in self.optimizer.param_groups:
                group["lr"] = lr

    def set_optimizer(self, optimizer: object) -> None:
        """A new optimizer (fresh state) of another kind, at the current learning rate."""
        name, cls, extra = optimizer_class(optimizer)
        with self.lock:
            self.optimizer_name, self._optimizer_cls, self._optimizer_extra = name, cls, extra
            self.optimizer = self._new_optimizer()

    def set_batch_size(self, batch_size: int) -> None:
        batch_size = check_batch_size(batch_size)
        with self.lock:
            self.batch_size = batch_size

    def step(self) -> StepResult:
        """One optimizer step on the next mini-batch. A non-finite loss raises ``FloatingPointError``
        before any update; an error leaves the weights as they were before this step's update."""
        with self.lock, torch.inference_mode(False), torch.enable_grad(), _training(self.model):
            rows = self.batches.next(self.batch_size)
            inputs, targets = self.batch(rows)
            outputs = self.model(inputs)
            if not isinstance(outputs, torch.Tensor):
                raise TypeError(f"the model returned {type(outputs).__name__}, not a tensor: wrap it, or pass a "
                                f"callable loss that takes what it returns")
            loss = self.loss_fn(outputs, targets)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise TypeError(f"the loss must return a scalar tensor, got {type(loss).__name__}"
                                f"{' of shape ' + str(tuple(loss.shape)) if isinstance(loss, torch.Tensor) else ''}")
            value = float(loss.detach())
            if not math.isfinite(value):
                raise FloatingPointError(f"the loss is {value} at step {self.steps + 1}: lower the learning rate "
                                         f"(now {self.lr:g}) or reset the weights")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            accuracy = None
            if self.classification and outputs.dim() == 2 and outputs.shape[1] > 1:
                accuracy = float((outputs.detach().argmax(1) == targets).float().mean())
            self.steps += 1
            self.last_loss = value
            metrics = {"loss": value} if accuracy is None else {"loss": value, "accuracy": accuracy}
            self.history.add(self.steps, **metrics)
            return StepResult(self.steps, value, accuracy)

    def batch(self, rows: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """The model's inputs and the targets for ``rows`` (on the model's device)."""
        device = model_device(self.model)
        inputs = self.inputs(rows)
        if isinstance(inputs, torch.Tensor):
            inputs = inputs.to(device=device, dtype=model_dtype(self.model) if inputs.is_floating_point() else None)
        targets = self.targets[rows].to(device)
        if targets.is_floating_point():
            targets = targets.to(model_dtype(self.model))
        return inputs, targets

    def reset(self) -> None:
        """The initial weights and buffers (in place), a fresh optimizer, step 0, empty history, the
        first epoch's batch order again."""
        with self.lock:
            self.initial.restore()
            self.optimizer.zero_grad(set_to_none=True)
            self.optimizer = self._new_optimizer()
            self.batches.restart()
            self.steps = 0
            self.last_loss = None
            self.history.clear()


class _training:
    """Every module in training mode for one step; each module's own flag is put back after."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.flags = [(m, m.training) for m in self.model.modules()]
        if not all(flag for _, flag in self.flags):
            self.model.train()

    def __exit__(self, *_: Any) -> None:
        for module, flag in self.flags:
            if module.training != flag:
                module.training = flag


def as_targets(y: object, loss_name: str, rows: int) -> torch.Tensor:
    """``y`` as a tensor with one target per row: int64 class indices for ``"cross_entropy"`` (checked
    to be whole numbers ≥ 0), floats for ``"mse"``, as given otherwise.

    >>> as_targets([0, 2, 1], "cross_entropy", 3).dtype
    torch.int64
    """
    if y is None:
        raise TypeError("y is missing: pass the targets (class indices for classification, numbers for regression)")
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    if isinstance(y, torch.Tensor):
        tensor = y.detach()
    else:
        array = np.asarray(y)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"y must hold numbers (class indices or regression targets), got dtype {array.dtype}")
        tensor = torch.from_numpy(np.array(array, copy=True))
    if tensor.dim() == 0 or len(tensor) != rows:
        raise ValueError(f"y must have one target per row of X ({rows} rows), got shape {tuple(tensor.shape)}")
    if loss_name == "cross_entropy":
        if tensor.dim() != 1:
            raise ValueError(f"loss 'cross_entropy' needs y as 1-D class indices, got shape {tuple(tensor.shape)}")
        if tensor.is_floating_point():
            if not torch.all(tensor == tensor.round()):
                raise ValueError("loss 'cross_entropy' needs y as class indices (whole numbers); y holds fractions: "
                                 "use loss='mse' for regression")
        if len(tensor) and tensor.min() < 0:
            raise ValueError(f"class indices in y must be ≥ 0, got {int(tensor.min())}")
        return tensor.long()
    if loss_name == "mse":
        if tensor.dtype == torch.bool:
            tensor = tensor.to(torch.float32)
        return tensor if tensor.is_floating_point() else tensor.to(torch.float32)
    return tensor


def as_inputs(X: object) -> torch.Tensor:
    """``X`` (array, tensor or DataFrame) as a tensor with one row per sample; no copy of a tensor.

    >>> as_inputs(np.zeros((3, 2))).shape
    torch.Size([3, 2])
    """
    if X is None:
        raise TypeError("X is missing: pass the inputs, one row (sample) per entry of y")
    if hasattr(X, "to_numpy") and hasattr(X, "columns"):
        X = X.to_numpy()
    if isinstance(X, torch.Tensor):
        tensor = X.detach()
    else:
        try:
            array = np.asarray(X)
        except (TypeError, ValueError) as error:
            raise TypeError(f"X must be a numeric array or tensor: {error}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"X must hold numbers, got dtype {array.dtype}")
        if array.dtype == np.bool_:
            array = array.astype(np.float32)
        tensor = torch.from_numpy(array if array.flags.writeable else array.copy())  # shared, never written
    if tensor.dim() == 0 or len(tensor) == 0:
        raise ValueError(f"X must have at least one row (samples along the first axis), got shape {tuple(tensor.shape)}")
    return tensor
