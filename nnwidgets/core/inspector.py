"""The inspector: one model and its data, the one prediction function, the one selection all views
follow, and the results they share (computed once per model version, off the kernel's thread)."""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Hashable

import numpy as np
import torch
from torch import nn

from .activations import leaf_layers
from .layer_table import layer_table
from .model_output import OUTPUTS, OutputKind, decide_output, to_probabilities
from .model_version import model_signature, weights_version
from .predictor import Predictor, model_device, model_dtype
from .scheduler import ResultCache, Slot, scheduler
from .selection import Selection
from .shadow import ShadowError
from .live import ticker
from .steps import on_steps
from .images import ImageLayout, as_images, is_image_data
from .tabular import MODES, Tabular, as_labels, as_matrix, names
from .tasks import NotReady, RowPass, Task

PROBE_ROWS = 512
INLINE_S = 0.01  # quick work measured below this runs on the caller's thread: no hop to a worker


class ModelChanged(RuntimeError):
    """The live model changed while a result was computed from it; the result was thrown away."""


def ensure_module(model: object) -> nn.Module:
    """Return ``model`` if it is a ``torch.nn.Module``, else raise a ``TypeError`` saying so."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(model).__module__}.{type(model).__qualname__}")
    return model


def default_layer(model: nn.Module) -> str:
    """The first layer that holds weights (the model itself when none does)."""
    return next((r.name for r in layer_table(model) if r.has_weights), "")


class Inspector(Selection):
    """A live model with (optionally) its data, shared by every view built on it.

    It owns the checked data (one copy), the one prediction function with an explicit output kind
    (``output="auto"`` decides between logits and probabilities from up to 512 rows and says why in
    ``output_kind.reason``), the one selection (``row``, ``values``, ``target_class``,
    ``selected_layer``) every view follows, and results cached per model version and shared between
    views. Background work runs on a read-only shadow of the model that shares its weights' storage:
    the model itself is never changed. After a notebook cell changed the model, views refresh.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_digits, load_iris
        iris = load_iris()
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        s = nw.Inspector(net, iris.data, y=iris.target, feature_names=iris.feature_names,
                         class_names=iris.target_names)
        s.output_kind.kind                 # 'logits', and s.output_kind.reason says why
        nw.LimeExplainer(s); nw.GamExplainer(s)   # two views of one selection
        s.row = 17                         # both follow
        s.prediction                       # the three class probabilities for row 17

        digits = load_digits()             # pictures: (n, C, H, W), grey (n, H, W) or channels-last
        cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(144, 10))
        pictures = nw.Inspector(cnn, digits.images / 16, y=digits.target)
        pictures.image.shape               # (1, 8, 8)
        pictures.values = pictures.current_image.clip(0.5, 1)   # painting is assigning the picture

    >>> import torch, numpy as np
    >>> s = Inspector(torch.nn.Linear(3, 2), np.zeros((5, 3)))
    >>> s.output_kind.kind, s.class_names, s.prediction.shape
    ('logits', ('class 0', 'class 1'), (2,))
    """

    def __init__(
        self,
        model: nn.Module,
        X: object = None,
        *,
        y: object = None,
        feature_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        mode: str | None = None,
        output: str = "auto",
        preprocess: Callable[[np.ndarray], object] | None = None,
        channels_last: bool | None = None,
        row: int = 0,
        target_class: int | None = None,
        selected_layer: str | None = None,
    ) -> None:
        self.model = ensure_module(model)
        self.predictor = Predictor(model, preprocess)
        self.preprocess = preprocess
        self.version = 0
        self._paused = threading.Event()  # set while not training
        self._paused.set()
        self.deferring_slow_work = False  # while training: fits and passes over X wait for a pause
        self._signature = model_signature(model)
        self._changes_lock = threading.RLock()
        self._steps = _StepsOf(self)
        on_steps(model, self._steps)
        self._cache = ResultCache()
        self._costs: dict[str, float] = {}  # recent run time of each task kind, in seconds
        self._memo: dict = {}
        self._memo_lock = threading.Lock()
        self._start_selection()
        self.data: Tabular | None = None
        self.labels: np.ndarray | None = None
        self.output_kind: OutputKind | None = None
        self.problem = ""
        if X is None:
            given = {k: v for k, v in dict(y=y, feature_names=feature_names, class_names=class_names, mode=mode,
                                           preprocess=preprocess, channels_last=channels_last).items() if v is not None}
            if given or output != "auto" or row or target_class:
                raise TypeError(f"{', '.join(given) or 'output/row/target_class'} describe data: pass X as well")
        else:
            self._check_data(X, y, feature_names, class_names, mode, output, channels_last)
            self.row = row
            if target_class is not None:
                self.target_class = target_class
            elif self.mode == "classification" and not self.problem:
                self._target = int(np.argmax(self.prediction))
        self._layer = default_layer(model) if selected_layer is None else self.check_selected_layer(selected_layer)

    # -- data and outputs ---------------------------------------------------------------------
    def _check_data(self, X, y, feature_names, class_names, mode, output, channels_last=None) -> None:
        image = None
        if is_image_data(X):
            if feature_names is not None:
                raise TypeError("feature_names describe columns of a table; images name their pixels themselves")
            matrix, image = as_images(X, channels_last)
            columns = image.names()
            self.predictor.input_shape = image.shape
        elif channels_last is not None:
            raise TypeError(f"channels_last describes images (3-D or 4-D X); X has {np.ndim(X)} axes")
        else:
            matrix, columns = as_matrix(X)
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be 'classification' or 'regression', got {mode!r}")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        self._asked = {"mode": mode, "output": output, "class_names": class_names}
        self._probe = matrix[np.unique(np.linspace(0, len(matrix) - 1, min(len(matrix), PROBE_ROWS)).astype(int))]
        mode, classes = self._decide_outputs()
        self.data = Tabular(
            X=matrix,
            feature_names=names(feature_names if feature_names is not None else columns, matrix.shape[1], "feature_names",
                                lambda i: f"x{i}"),
            class_names=classes,
            mode=mode,
            image=image,
        )
        self.labels = None if y is None else self._check_labels(y, len(matrix))

    def _decide_outputs(self) -> tuple[str, tuple[str, ...]]:
        """Run the model on up to 512 rows of X: the mode, ``output_kind`` and the class names. Decided
        again when the model's structure changes (a new head, a softmax appended)."""
        asked = self._asked
        try:
            raw = self.predictor.raw(self._probe, self.version)
        except ShadowError as error:
            raw, self.problem = None, str(error)
            columns = self._meta_columns(self._probe)
        except ValueError:
            raise
        except Exception as error:
            shape = self.predictor.input_shape
            if shape is not None:
                raise ValueError(
                    f"the model could not take the images as (n, C, H, W) = (n, {', '.join(map(str, shape))}): {error}. "
                    "Check the channel axis (channels_last=) and the size the model expects, or pass preprocess="
                ) from None
            raise ValueError(
                f"the model could not take X's rows (shape {self._probe.shape[0]} × {self._probe.shape[1]} checked): {error}. "
                "Check the number of columns, or pass preprocess= to turn raw features into model inputs"
            ) from None
        else:
            self.problem = ""
            columns = raw.shape[1]
            if not np.isfinite(raw).all():
                raise ValueError("the model returned NaN or inf on rows of X: check its weights and inputs")
        ends_in_sigmoid = isinstance(leaf_layers(self.model)[-1][1], nn.Sigmoid)
        classifier = asked["class_names"] is not None or asked["output"] != "auto" or ends_in_sigmoid
        mode = asked["mode"] or ("regression" if columns == 1 and not classifier else "classification")
        if mode == "regression" and columns != 1:
            raise ValueError(f"mode='regression' needs one output per row; the model gives {columns}")
        if raw is not None:
            self.output_kind = decide_output(raw, model_dtype(self.model), mode, asked["output"], last=leaf_layers(self.model)[-1][1])
        elif mode == "regression":
            self.output_kind = OutputKind("regression", 1, "mode is regression")
        else:
            kind = asked["output"] if asked["output"] != "auto" else "logits"
            self.output_kind = OutputKind(kind, columns, "not decided: " + self.problem)
        n_classes = 0 if mode == "regression" else max(columns, 2)
        return mode, names(asked["class_names"], n_classes, "class_names", lambda i: f"class {i}")

    def _meta_columns(self, probe: np.ndarray) -> int:
        """Output width of a model whose weights are on the meta device (shapes without values)."""
        with self.predictor.shadows.use(self.version) as shadow:
            shapes = {name: torch.empty_like(t, device="meta")
                      for name, t in (*shadow.named_parameters(), *shadow.named_buffers())}
            out = torch.func.functional_call(shadow, shapes, (self.predictor.inputs(probe[:1]).to("meta"),))
        return 1 if out.dim() == 1 else int(out.shape[-1])

    def _check_labels(self, y: object, rows: int) -> np.ndarray:
        """``y`` as class indices (given as indices 0..k-1 or as class names) or regression targets."""
        labels = as_labels(y, rows)
        if self.data.mode == "regression":
            try:
                return labels.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError("y must hold numbers (the regression targets)") from None
        classes = self.data.class_names
        if labels.dtype.kind in "OUSb" and labels.dtype.kind != "b":
            index = {name: i for i, name in enumerate(classes)}
            unknown = sorted({str(v) for v in labels} - set(index))
            if unknown:
                raise ValueError(f"y holds labels {unknown[:5]} that are not class names {list(classes)}: "
                                 f"pass class indices 0..{len(classes) - 1}, or class_names that match")
            return np.array([index[str(v)] for v in labels])
        values = labels.astype(np.float64)
        if not np.all(values == np.round(values)) or values.min() < 0 or values.max() >= len(classes):
            raise ValueError(f"y must hold class indices 0..{len(classes) - 1} (or class names); "
                             f"it holds values from {values.min():g} to {values.max():g}")
        return values.astype(int)

    @property
    def mode(self) -> str | None:
        return None if self.data is None else self.data.mode

    @property
    def image(self) -> ImageLayout | None:
        """For image data, its :class:`~nnwidgets.core.images.ImageLayout` (shape (C, H, W), how it was
        given, the pixel range); None for tables. ``values`` is then the working copy of the current
        picture, flat; ``current_image`` shows it as (C, H, W), and assigning ``values`` an array of the
        picture's shape is the same as painting it."""
        return None if self.data is None else self.data.image

    @property
    def current_image(self) -> np.ndarray:
        """The current picture (the selected image, maybe painted on) as a (C, H, W) array."""
        if self.image is None:
            raise TypeError("current_image needs image data: build the inspector as Inspector(model, images)")
        return self._values.reshape(self.image.shape)

    def images(self, rows: object) -> np.ndarray:
        """Pictures ``rows`` of the data as (len(rows), C, H, W) (a view, not a copy, when it can be)."""
        if self.image is None:
            raise TypeError("images() needs image data: build the inspector as Inspector(model, images)")
        return self.data.X[rows].reshape(-1, *self.image.shape)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return () if self.data is None else self.data.feature_names

    @property
    def class_names(self) -> tuple[str, ...]:
        return () if self.data is None else self.data.class_names

    def require_data(self, what: str) -> Tabular:
        if self.data is None:
            raise TypeError(f"{what} needs data: build the inspector as Inspector(model, X, ...)")
        return self.data

    def convert(self, raw: np.ndarray) -> np.ndarray:
        """Raw outputs (rows × columns) as predictions: class probabilities, or regression values."""
        if not np.isfinite(raw).all():
            raise ValueError("the model returned NaN or inf for these inputs")
        if self.output_kind.kind == "regression":
            return raw[:, 0]
        return to_probabilities(raw, self.output_kind.kind)

    def predict_function(self, version: int | None = None, check: Callable[[], None] | None = None) -> Callable[[np.ndarray], np.ndarray]:
        """rows → predictions (class probabilities or regression values), through the shadow."""
        v = self.version if version is None else version
        return lambda rows: self.convert(self.predictor.raw(rows, v, check=check))

    def predict(self, rows: object) -> np.ndarray:
        """The model's predictions for rows of raw feature values: class probabilities (rows × classes)
        or regression values (rows,). Computed now, on this thread."""
        self.require_data("predict()")
        matrix = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if self.image is not None and matrix.ndim > 2:  # pictures, in any shape one of them takes
            matrix = np.stack([self.image.as_image(picture).ravel() for picture in matrix])
        if matrix.shape[1] != self.data.n_features:
            raise ValueError(f"rows need {self.data.n_features} values each (one per feature), got {matrix.shape[1]}")
        return self.predict_function()(matrix)

    @property
    def prediction(self) -> np.ndarray:
        """The prediction for the current ``values`` (computed once per change, shared by every view)."""
        self.require_data("prediction")
        return self.compute(RowPass(tuple(self._values.tolist()))).prediction

    # -- the model changing -------------------------------------------------------------------
    def check_for_changes(self, live: bool = False) -> bool:
        """Compare the model with what results were computed from; if it changed (training steps,
        new weights, a new layer), forget old results and tell every view. Cheap: version counters
        and a few probed values, never a copy of the weights. ``live`` marks a refresh while the
        model trains (views may skip it to keep to their ``live_rate``)."""
        with self._changes_lock:
            signature = model_signature(self.model)
            if signature == self._signature:
                return False
            # A refresh, a new structure, or a model that could not run (meta weights since loaded): the
            # outputs are decided again.
            decide_again = self._signature is None or signature[0] != self._signature[0] or bool(self.problem)
            self._signature = signature
            self.version += 1
            version = self.version
            if decide_again and self.data is not None:
                self._redecide_outputs()
            self._cache.drop(lambda key: key[1] == version)
            try:
                self.check_selected_layer(self._layer)
            except ValueError:
                self._layer = default_layer(self.model)
        self._notify({"model", "live"} if live else {"model"})
        return True

    def wait_for_pause(self, timeout: float | None = None) -> bool:
        """Block until the model stopped training and its views asked for what they deferred (True),
        or ``timeout`` passed (False)."""
        return self._paused.wait(timeout)

    def settle_views(self) -> None:
        """Training paused: tell views that skipped a live refresh (to keep to their rate) to draw it."""
        self._notify({"settled"})

    @property
    def training(self) -> bool:
        """Whether the model moved within the last moments (steps heard, metrics logged): its views
        follow it live until it pauses."""
        return not self._paused.is_set()

    @training.setter
    def training(self, value: bool) -> None:
        (self._paused.clear if value else self._paused.set)()

    def moved(self) -> None:
        """Say that the model just changed (a training step the optimizer hooks cannot see, such as
        a manual update of ``.data``): open views follow within a moment, as they do for steps."""
        ticker().moved(self)

    def _redecide_outputs(self) -> None:
        """After a structural change, the outputs may mean something else (a softmax appended, a new
        head): decide them again; what no longer fits (class names for another width) is a problem
        every view shows, not a crash."""
        try:
            mode, classes = self._decide_outputs()
        except ValueError as error:
            self.problem = str(error)
            return
        self.data = replace(self.data, mode=mode, class_names=classes)
        if self._target >= max(len(classes), 1):
            self._target = 0

    def refresh(self) -> None:
        """Recompute everything from the model as it is now (also when no change was detected)."""
        self._signature = None
        self.check_for_changes()

    # -- results ------------------------------------------------------------------------------
    def key(self, task: Task, version: int | None = None) -> tuple:
        return (type(task).__name__, self.version if version is None else version, task)

    def request(self, slot: Slot, task: Task) -> None:
        """Deliver ``task``'s result to ``slot``: now if cached; computed on this thread if it is quick
        work measured to take under ``INLINE_S`` (a small model's prediction), else in the background."""
        version = self.version
        cost = self._costs.get(type(task).__name__)
        inline = (task.lane == "quick" and cost is not None and cost < INLINE_S
                  and threading.current_thread() is threading.main_thread())
        scheduler().request(slot, self.key(task, version), lambda job: self._run(task, version, job), cache=self._cache,
                            keep=task.keep, lane=task.lane, priority=task.priority, describe=task.describe(self),
                            inline=inline, settle=task.settle)

    def compute(self, task: Task, version: int | None = None) -> Any:
        """``task``'s result, computed on this thread unless cached or running elsewhere."""
        v = self.version if version is None else version
        return scheduler().compute(self.key(task, v), lambda job: self._run(task, v, job), cache=self._cache,
                                   keep=task.keep, lane=task.lane, priority=task.priority, describe=task.describe(self))

    def cached(self, task: Task, version: int) -> Any:
        """``task``'s result for ``version`` if it is computed, else :class:`NotReady` (never computes)."""
        hit, value = self._cache.get(self.key(task, version))
        if not hit:
            raise NotReady(f"{task.describe(self)} has not finished yet")
        return value

    def peek(self, task: Task) -> tuple[bool, Any]:
        """``(True, result)`` if ``task`` is cached for the current model version, else ``(False, None)``."""
        return self._cache.get(self.key(task))

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """A value derived from the data alone (a baseline row, a sample), computed once."""
        with self._memo_lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]

    def _run(self, task: Task, version: int, job: Any) -> Any:
        if self.problem and task.reads_model and task.runs_model:
            raise ShadowError(self.problem)
        before = weights_version(self.model) if task.reads_model else None
        started = time.perf_counter()
        with clean_torch_state(self.model):  # work run on the caller's thread ignores its autocast or inference mode
            result = task.run(self, version, job)
        kind = type(task).__name__
        elapsed = time.perf_counter() - started
        self._costs[kind] = elapsed if kind not in self._costs else 0.7 * self._costs[kind] + 0.3 * elapsed
        if task.reads_model and weights_version(self.model) != before and not self.training:
            raise ModelChanged("the model changed while this was computed (training?); it is computed again once the cell ends, or on refresh()")
        return result

    def __repr__(self) -> str:
        if self.data is None:
            data = "no data"
        elif self.image is not None:
            data = f"{self.data.n_rows:,} images {'×'.join(map(str, self.image.shape))}, {self.data.mode}"
        else:
            data = f"{self.data.n_rows:,} rows × {self.data.n_features} features, {self.data.mode}"
        return f"Inspector({type(self.model).__name__}, {data}, row={self._row}, selected_layer={self._layer!r})"


class _StepsOf:
    """Hears the optimizer steps of an inspector's model (held weakly: the inspector owns this)."""

    def __init__(self, inspector: Inspector) -> None:
        self._inspector = weakref.ref(inspector)
        self._session = None  # the ticker's record of the model's training session

    def after_step(self, optimizer: torch.optim.Optimizer) -> None:
        session = self._session
        if session is not None and session.open:  # what ticker().moved would do, without its calls (see steps._after)
            session.last_move = now = time.monotonic()
            session.steps.append(now)
            return
        inspector = self._inspector()
        if inspector is not None:
            self._session = ticker().moved(inspector, step=True)

    def moved(self) -> None:
        """The model's weights changed without a step (a reset)."""
        inspector = self._inspector()
        if inspector is not None:
            inspector.moved()


@contextlib.contextmanager
def clean_torch_state(model: nn.Module) -> Iterator[None]:
    """No autocast and no inference mode, whatever the calling thread had set."""
    device = model_device(model).type
    with torch.inference_mode(False), torch.autocast(device_type=device if device in ("cpu", "cuda") else "cpu", enabled=False):
        yield
