"""The computations an :class:`~nnwidgets.core.inspector.Inspector` schedules and caches.

A task is a frozen dataclass of its inputs (its identity: two views asking for equal tasks share one
computation and one cached result per model version) with class attributes saying where it runs:
``lane`` ("quick": work on the current row; "slow": work over the data), ``priority`` within the lane
(lower first), ``settle`` (seconds a request waits before it may start, so newer ones supersede it)
and ``keep`` (results of this kind kept per inspector). ``run`` gets the inspector, the
model version the result is for, and the :class:`~nnwidgets.core.scheduler.Job` (cancellation, progress).
Tasks that read the model's weights (``reads_model``) are discarded if the live model changed while
they ran; those that also run it (``runs_model``) are refused while it cannot run (meta or lazy weights).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from .activations import flatten_rows, leaf_layers
from .attributions import Attributions, attributed, baseline_row, combine, output_name, path
from .dataset_pass import DatasetPass, dataset_pass
from .gam_surrogate import GamOptions, GamSurrogate, fit_gam, surrogate_target
from .importance import BACKGROUND_ROWS, PermutationImportance, Sensitivity, permutation_importance, sensitivity
from .lime_explain import LimeOptions, LimeResult, explain_lime
from .predictor import tensor_to_float64
from .sampling import MIN_HOLDOUT_ROWS, POOL_FACTOR, Split, holdout_split, planned_rows, random_rows, split_sample
from .surrogates import fit_linear, fit_tree
from .tabular import feature_ranges
from .heatmap import Heatmap, heatmap
from .layer_table import resolve_layer
from .weight_distribution import weight_distributions

LIME_ROWS = 20_000

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
    settle: ClassVar[float] = 0.0
    reads_model: ClassVar[bool] = True
    runs_model: ClassVar[bool] = True

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
    settle: ClassVar[float] = 0.25  # up to seconds each: a dragged slider is explained where it stops
    keep: ClassVar[int] = 64

    def run(self, ins, version, job) -> LimeResult:
        """lime's statistics (quartiles, scales) from at most 20,000 rows: enough for quartiles, and
        lime copies its training data several times."""
        n = ins.data.n_rows
        data = ins.data if n <= LIME_ROWS else replace(ins.data, X=ins.data.X[random_rows(n, LIME_ROWS, 0)])
        result = explain_lime(data, ins.predict_function(version, job.check), np.array(self.values), self.label, self.options)
        return replace(result, total_rows=n)

    def describe(self, ins):
        return f"LIME on {self.options.num_samples:,} samples"


@dataclass(frozen=True)
class SampleResult:
    """The rows surrogates are fitted and scored on, with the model's predictions there."""

    split: Split
    fit_predictions: np.ndarray
    score_predictions: np.ndarray


@dataclass(frozen=True)
class SurrogateSample(Task):
    """X's rows split ``holdout`` for scoring when X has at most ``fit_rows + score_rows`` rows (each side
    cut to its size); else ``fit_rows`` + ``score_rows`` rows drawn from a random pool of four times as
    many. Both keep the shares of the model's predicted classes (of X, or of the pool). Shared by every
    surrogate."""

    fit_rows: int
    score_rows: int
    holdout: float
    seed: int
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 1
    keep: ClassVar[int] = 4

    def run(self, ins, version, job) -> SampleResult:
        n = ins.data.n_rows
        rng = np.random.default_rng(self.seed)
        classify = ins.data.mode == "classification"
        if n <= self.fit_rows + self.score_rows:
            predictions = ins.compute(OverData(), version).predictions  # the pass over X every view shares
            if n < MIN_HOLDOUT_ROWS:
                split = holdout_split(n, self.holdout, self.seed)
            else:
                fit, score = planned_rows(n, self.fit_rows, self.score_rows, self.holdout)
                split = split_sample(np.arange(n), predictions.argmax(axis=1) if classify else None, fit, score, n, rng)
            return SampleResult(split, predictions[split.train], predictions[split.test])
        pool = random_rows(n, min(n, POOL_FACTOR * (self.fit_rows + self.score_rows)), self.seed)
        job.progress(0.0, f"running the model over {len(pool):,} sampled rows")
        pool_predictions = ins.predict_function(version, job.check)(ins.data.X[pool])
        labels = pool_predictions.argmax(axis=1) if classify else None
        split = split_sample(pool, labels, self.fit_rows, self.score_rows, n, rng)
        where = {row: i for i, row in enumerate(pool)}
        pick = lambda rows: pool_predictions[[where[r] for r in rows]]  # noqa: E731
        return SampleResult(split, pick(split.train), pick(split.test))

    def describe(self, ins):
        return f"sampling {self.fit_rows + self.score_rows:,} of {ins.data.n_rows:,} rows"


def surrogate_sample(options: GamOptions, features: int) -> SurrogateSample:
    """The sample a GAM with these options (and the other surrogates beside it) is fitted on."""
    return SurrogateSample(options.rows_to_fit(features), options.score_rows, options.holdout, options.random_state)


@dataclass(frozen=True)
class GamFit(Task):
    label: int
    options: GamOptions
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 2
    keep: ClassVar[int] = 8
    reads_model: ClassVar[bool] = False

    def run(self, ins, version, job) -> GamSurrogate:
        o = self.options
        sample = ins.compute(surrogate_sample(o, ins.data.n_features), version)
        job.progress(0.1, self.describe(ins))
        split, mode, X = sample.split, ins.data.mode, ins.data.X
        y_fit = surrogate_target(sample.fit_predictions, mode, self.label, o.target)
        y_score = surrogate_target(sample.score_predictions, mode, self.label, o.target)
        return fit_gam(X[split.train], y_fit, X[split.test], y_score, mode, split, o)

    def describe(self, ins):
        o = self.options
        rows, _ = planned_rows(ins.data.n_rows, o.rows_to_fit(ins.data.n_features), o.score_rows, o.holdout)
        search = " (grid search)" if o.gridsearch else ""
        return f"fitting a GAM to {rows:,} rows × {ins.data.n_features} features{search}"


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
    fit_rows: int = 0
    score_rows: int = 10_000
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 3
    keep: ClassVar[int] = 8
    reads_model: ClassVar[bool] = False

    def run(self, ins, version, job) -> dict:
        o = GamOptions(target=self.target, fit_rows=self.fit_rows, score_rows=self.score_rows)
        gam = ins.compute(GamFit(self.label, o), version)
        sample = ins.compute(surrogate_sample(o, ins.data.n_features), version)
        split, mode, X = sample.split, ins.data.mode, ins.data.X
        y_fit = surrogate_target(sample.fit_predictions, mode, self.label, self.target)
        y_score = surrogate_target(sample.score_predictions, mode, self.label, self.target)
        X_fit, X_score = X[split.train], X[split.test]
        return {
            "gam": gam,
            "linear": fit_linear(X_fit, y_fit, X_score, y_score, mode, self.target, split),
            "tree": fit_tree(X_fit, y_fit, X_score, y_score, mode, self.target, split, self.max_depth),
        }

    def describe(self, ins):
        o = GamOptions(fit_rows=self.fit_rows, score_rows=self.score_rows)
        rows, _ = planned_rows(ins.data.n_rows, o.rows_to_fit(ins.data.n_features), o.score_rows, o.holdout)
        return f"fitting the linear and tree surrogates to {rows:,} rows"


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
    """Permutation importance on ``rows`` rows (all of X when it has fewer; a seeded random sample else)."""

    metric: str
    repeats: int
    rows: int = 0
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 5
    keep: ClassVar[int] = 8

    def rows_to_use(self, features: int) -> int:
        """``rows``, or when 0 as many as keep the shuffled passes near 2.5 million rows in all
        (10,000 for 50 features and 5 repeats, never fewer than 1,000)."""
        return self.rows or int(min(10_000, max(1_000, 2_500_000 // (features * self.repeats))))

    def run(self, ins, version, job) -> PermutationImportance:
        n, d = ins.data.X.shape
        predict = ins.predict_function(version, job.check)
        wanted = self.rows_to_use(d)
        if n <= wanted:
            rows, X, original = np.arange(n), ins.data.X, ins.compute(OverData(), version).predictions
        else:
            rows = random_rows(n, wanted, 0)
            X = ins.data.X[rows]
            original = predict(X)

        def step(j: int) -> None:
            job.check()
            job.progress(j / d, f"shuffling feature {j + 1} of {d} ({self.repeats} repeats, {len(rows):,} of {n:,} rows)")

        return permutation_importance(X, predict, original, ins.data.mode, metric=self.metric, repeats=self.repeats,
                                      y=None if ins.labels is None else ins.labels[rows], step=step, total_rows=n)

    def describe(self, ins):
        return f"permutation importance ({self.repeats} repeats, {min(self.rows_to_use(ins.data.n_features), ins.data.n_rows):,} rows)"


@dataclass(frozen=True)
class Ice(Task):
    """ICE lines through the current values for the features shown, for every output column at once."""

    values: tuple[float, ...]
    features: tuple[int, ...]
    priority: ClassVar[int] = 2

    def run(self, ins, version, job) -> Sensitivity:
        X = ins.data.X
        lo, hi, _ = ins.memo("feature ranges", lambda: feature_ranges(X))
        others = ins.memo("ICE rows", lambda: X[random_rows(len(X), BACKGROUND_ROWS, 0)])
        return sensitivity(others, lo, hi, ins.predict_function(version, job.check), np.array(self.values), np.array(self.features))


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
        if isinstance(self.baseline, str):
            reference = ins.memo(("baseline", self.baseline), lambda: baseline_row(ins.data.X, self.baseline))
        else:
            reference = baseline_row(ins.data.X, np.array(self.baseline))
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
    runs_model: ClassVar[bool] = False  # layers whose weights have values are drawn even if others have none

    def run(self, ins, version, job):
        return weight_distributions(ins.model)

    def describe(self, ins):
        return "histogramming the weights"


@dataclass(frozen=True)
class WeightPicture(Task):
    """A pooled heatmap of ``parameter`` of ``layer`` (reads the live weights; runs nothing), or the
    reason there is none (a meta or lazy weight) as text."""

    layer: str
    parameter: str
    region: tuple[int, ...]
    max_cells: int
    priority: ClassVar[int] = 1
    keep: ClassVar[int] = 8
    runs_model: ClassVar[bool] = False

    def run(self, ins, version, job) -> Heatmap | str:
        try:
            return heatmap(resolve_layer(ins.model, self.layer), self.parameter, self.region or None, self.max_cells)
        except (ValueError, RuntimeError) as error:
            return str(error)

    def describe(self, ins):
        return f"pooling {self.layer or 'the model'}.{self.parameter}"
