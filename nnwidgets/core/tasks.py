"""The computations an :class:`~nnwidgets.core.inspector.Inspector` schedules and caches.

A task is a frozen dataclass of its inputs (its identity: two views asking for equal tasks share one
computation and one cached result per model version) with class attributes saying where it runs:
``lane`` ("quick": work on the current row; "slow": work over the data), ``priority`` within the lane
(lower first) and ``keep`` (results of this kind kept per inspector). ``run`` gets the inspector, the
model version the result is for, and the :class:`~nnwidgets.core.scheduler.Job` (cancellation, progress).
Tasks that run the model (``reads_model``) are discarded if the live model changed while they ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from .activations import flatten_rows, leaf_layers
from .attributions import Attributions, attributed, baseline_row, combine, output_name, path
from .dataset_pass import DatasetPass, dataset_pass
from .gam_surrogate import GamOptions, GamSurrogate, fit_gam, surrogate_target
from .importance import PermutationImportance, Sensitivity, permutation_importance, sensitivity
from .lime_explain import LimeOptions, LimeResult, explain_lime
from .predictor import tensor_to_float64
from .surrogates import fit_linear, fit_tree
from .weight_distribution import weight_distributions

if TYPE_CHECKING:
    from .inspector import Inspector
    from .scheduler import Job


class NotReady(RuntimeError):
    """A quick task needs a slow result (a fit) that is not computed yet: quick work never computes
    or waits for slow work; the view asks again once the slow result has arrived."""


class Task:
    lane: ClassVar[str] = "quick"
    priority: ClassVar[int] = 0
    keep: ClassVar[int] = 16
    reads_model: ClassVar[bool] = True

    def run(self, ins: "Inspector", version: int, job: "Job") -> Any:
        raise NotImplementedError

    def describe(self, ins: "Inspector") -> str:
        return type(self).__name__


@dataclass(frozen=True)
class RowResult:
    """The model on one row: ``raw`` outputs, ``prediction`` (class probabilities, or the regression
    value as a one-element array) and every leaf layer's output (``layers[name]``: 1 × units)."""

    raw: np.ndarray
    prediction: np.ndarray
    layers: dict[str, np.ndarray]


@dataclass(frozen=True)
class RowPass(Task):
    """One forward pass for the current values: the prediction and every layer's output together."""

    values: tuple[float, ...]
    priority: ClassVar[int] = 0
    keep: ClassVar[int] = 64

    def run(self, ins, version, job):
        layers: dict[str, np.ndarray] = {}

        def capture(_start: int, seen: dict) -> None:
            layers.update({name: flatten_rows(out) for name, (_, out) in seen.items()})

        names = tuple(name for name, _ in leaf_layers(ins.model))
        raw = ins.predictor.raw(np.array([self.values]), version, capture=capture, names=names)
        return RowResult(raw[0], np.atleast_1d(ins.convert(raw)[0]), layers)

    def describe(self, ins):
        return "predicting the current row"


@dataclass(frozen=True)
class DataResult:
    """The :class:`DatasetPass` plus the model's predictions on every row of X."""

    pass_: DatasetPass
    predictions: np.ndarray


@dataclass(frozen=True)
class OverData(Task):
    """The one pass over all of X: outputs, unit flags, activation histograms."""

    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 0
    keep: ClassVar[int] = 1

    def run(self, ins, version, job):
        result = dataset_pass(ins.predictor, ins.data.X, version, check=job.check, progress=job.progress)
        return DataResult(result, ins.convert(result.raw))

    def describe(self, ins):
        return f"running the model over {ins.data.n_rows:,} rows"


@dataclass(frozen=True)
class Lime(Task):
    values: tuple[float, ...]
    label: int
    options: LimeOptions
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 1
    keep: ClassVar[int] = 64

    def run(self, ins, version, job) -> LimeResult:
        return explain_lime(ins.data, ins.predict_function(version, job.check), np.array(self.values), self.label, self.options)

    def describe(self, ins):
        return f"LIME on {self.options.num_samples:,} samples"


@dataclass(frozen=True)
class GamFit(Task):
    label: int
    options: GamOptions
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 2
    keep: ClassVar[int] = 8
    reads_model: ClassVar[bool] = False

    def run(self, ins, version, job) -> GamSurrogate:
        data = ins.compute(OverData(), version)
        y = surrogate_target(data.predictions, ins.data.mode, self.label, self.options.target)
        return fit_gam(ins.data.X, y, ins.data.mode, self.options)

    def describe(self, ins):
        rows, cols = ins.data.X.shape
        search = " (grid search)" if self.options.gridsearch else ""
        return f"fitting a GAM to {rows:,} rows × {cols} features{search}"


@dataclass(frozen=True)
class GamRow:
    contributions: np.ndarray
    surrogate_prediction: float
    model_prediction: float


@dataclass(frozen=True)
class GamTerms(Task):
    """The GAM's terms for the current values beside the model's own value there."""

    values: tuple[float, ...]
    label: int
    options: GamOptions
    priority: ClassVar[int] = 3
    reads_model: ClassVar[bool] = False

    def run(self, ins, version, job) -> GamRow:
        gam = ins.cached(GamFit(self.label, self.options), version)
        row = ins.compute(RowPass(self.values), version)
        contributions = gam.contributions(np.array(self.values))
        model_value = surrogate_target(row.prediction[None, :] if ins.data.mode == "classification" else row.prediction,
                                       ins.data.mode, self.label, self.options.target)
        return GamRow(contributions, float(gam.intercept + contributions.sum()), float(model_value[0]))


@dataclass(frozen=True)
class SurrogateFits(Task):
    """GAM (shared with the GAM view), linear model and tree on the same target and split."""

    label: int
    target: str
    max_depth: int
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 3
    keep: ClassVar[int] = 8
    reads_model: ClassVar[bool] = False

    def run(self, ins, version, job) -> dict:
        gam = ins.compute(GamFit(self.label, GamOptions(target=self.target)), version)
        data = ins.compute(OverData(), version)
        y = surrogate_target(data.predictions, ins.data.mode, self.label, self.target)
        X, mode = ins.data.X, ins.data.mode
        return {
            "gam": gam,
            "linear": fit_linear(X, y, mode, self.target, gam.split),
            "tree": fit_tree(X, y, mode, self.target, gam.split, self.max_depth),
        }

    def describe(self, ins):
        return f"fitting the linear and tree surrogates to {ins.data.n_rows:,} rows"


@dataclass(frozen=True)
class SurrogateRow(Task):
    values: tuple[float, ...]
    fits: SurrogateFits
    priority: ClassVar[int] = 4
    reads_model: ClassVar[bool] = False

    def run(self, ins, version, job) -> dict:
        models = ins.cached(self.fits, version)
        row = ins.compute(RowPass(self.values), version)
        x = np.array([self.values])
        prediction = row.prediction[None, :] if ins.data.mode == "classification" else row.prediction
        return {
            "model": float(surrogate_target(prediction, ins.data.mode, self.fits.label, self.fits.target)[0]),
            "gam": float(models["gam"].predict(x)[0]),
            "linear": float(models["linear"].predict(x)[0]),
            "tree": float(models["tree"].predict(x)[0]),
            "leaf": models["tree"].leaf_of(x[0]),
        }


@dataclass(frozen=True)
class Importance(Task):
    metric: str
    repeats: int
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 5
    keep: ClassVar[int] = 8

    def run(self, ins, version, job) -> PermutationImportance:
        data = ins.compute(OverData(), version)
        d = ins.data.n_features

        def step(j: int) -> None:
            job.check()
            job.progress(j / d, f"shuffling feature {j + 1} of {d} ({self.repeats} repeats, {ins.data.n_rows:,} rows)")

        return permutation_importance(ins.data.X, ins.predict_function(version, job.check), data.predictions, ins.data.mode,
                                      metric=self.metric, repeats=self.repeats, y=ins.labels, step=step)

    def describe(self, ins):
        return f"permutation importance ({self.repeats} repeats)"


@dataclass(frozen=True)
class Ice(Task):
    """ICE lines through the current values, for every output column at once."""

    values: tuple[float, ...]
    priority: ClassVar[int] = 2

    def run(self, ins, version, job) -> Sensitivity:
        return sensitivity(ins.data.X, ins.predict_function(version, job.check), np.array(self.values))


@dataclass(frozen=True)
class Attribution(Task):
    values: tuple[float, ...]
    target: int
    baseline: str | tuple[float, ...]
    output: str
    steps: int
    priority: ClassVar[int] = 1

    def run(self, ins, version, job) -> Attributions:
        d = ins.data.n_features
        reference = baseline_row(ins.data.X, self.baseline if isinstance(self.baseline, str) else np.array(self.baseline))
        x = ins.predictor.inputs(np.array([self.values]))
        x0 = ins.predictor.inputs(reference[None, :])
        if tuple(x.shape) != (1, d):
            raise ValueError(f"attributions need preprocess to keep one column per feature; it gave shape {tuple(x.shape)}")
        points, weights = path(x, x0, self.steps)
        kind = ins.output_kind.kind
        f, grads = ins.predictor.gradients(torch.cat([x, x0, points]), version,
                                           lambda out: attributed(out, kind, self.output, self.target))
        values, delta = combine(tensor_to_float64(x)[0], tensor_to_float64(x0)[0], grads, weights, f)
        return Attributions(values, self.target, delta, output_name(kind, self.output, ins.output_kind.columns))


@dataclass(frozen=True)
class WeightStats(Task):
    """Every layer's weight histogram (reads the live weights; runs nothing)."""

    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 4
    keep: ClassVar[int] = 1

    def run(self, ins, version, job):
        return weight_distributions(ins.model)

    def describe(self, ins):
        return "histogramming the weights"
