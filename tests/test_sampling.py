"""Work that cannot use every row samples them, keeps the model's class shares, and says so."""

import threading

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core.gam_surrogate import GamOptions, auto_fit_rows
from nnwidgets.core.sampling import allocate, split_sample, stratified
from nnwidgets.core.tasks import GamFit, Importance, Lime, SurrogateSample, surrogate_sample
from nnwidgets.core.lime_explain import LimeOptions


def test_allocation_keeps_shares_and_every_class():
    counts = np.array([9000, 900, 95, 5])
    take = allocate(counts, 1000)
    assert take.sum() == 1000 and np.all(take >= 1) and np.all(take <= counts)
    assert np.all(np.abs(take - counts / counts.sum() * 1000) <= 1.5)


def test_stratified_draws_are_distinct_and_proportional():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [7000, 2500, 500])
    picked = stratified(labels, 1000, rng)
    assert len(set(picked.tolist())) == 1000
    assert np.bincount(labels[picked]).tolist() == [700, 250, 50]
    split = split_sample(np.arange(10_000), labels, 600, 400, 10_000, rng)
    assert set(split.train.tolist()).isdisjoint(split.test.tolist())
    assert np.bincount(labels[split.test]).tolist() == [280, 100, 20]


def imbalanced(rows=50_000, features=20):
    """A classifier whose class 1 is rare (about 4 % of rows), on standard normal data."""
    X = np.random.default_rng(0).normal(size=(rows, features))
    model = nn.Linear(features, 2)
    with torch.no_grad():
        model.weight.zero_()
        model.weight[1, 0] = 3.0
        model.bias.copy_(torch.tensor([0.0, -5.0]))
    return model, X


def test_surrogates_on_big_data_fit_a_stratified_sample_and_say_so():
    model, X = imbalanced()
    with torch.no_grad():  # the model's own classes over all rows, counted here
        share = (model(torch.tensor(X, dtype=torch.float32)).argmax(1) == 1).double().mean().item()
    s = nw.Inspector(model, X)
    gam = s.compute(GamFit(1, GamOptions()))
    fit_rows = auto_fit_rows(20, 20)
    assert (gam.fitted_rows, gam.scored_rows) == (fit_rows, 10_000) and gam.split.total == 50_000
    assert gam.split.describe() == (f"fitted on {fit_rows:,} of 50,000 rows (a sample stratified by the model's class); "
                                    "fidelity on 10,000 held-out rows")
    with torch.no_grad():
        classes = model(torch.tensor(X[gam.split.train], dtype=torch.float32)).argmax(1).double()
    assert classes.mean().item() == pytest.approx(share, abs=0.005)
    sample = s.compute(surrogate_sample(GamOptions(), 20))
    assert sample.split is gam.split  # one sample serves the GAM and the other surrogates
    sur = nw.Surrogates(s).wait()
    assert sur.fitted["split"] == gam.split.describe() and sur.models["tree"].split is gam.split


def test_the_fit_size_is_the_users_to_change():
    model, X = imbalanced(rows=30_000)
    s = nw.Inspector(model, X)
    gam = nw.GamExplainer(s, fit_rows=2_000, score_rows=3_000).wait()
    assert (gam.surrogate.fitted_rows, gam.surrogate.scored_rows) == (2_000, 3_000)
    assert gam.curves["split"].startswith("fitted on 2,000 of 30,000 rows")
    small = nw.Inspector(model, X[:4_000])  # small enough to need no sample, yet the user asks for 500 rows
    gam = nw.GamExplainer(small, fit_rows=500).wait()
    assert (gam.surrogate.fitted_rows, gam.surrogate.scored_rows) == (500, 800)
    assert len(np.intersect1d(gam.surrogate.split.train, gam.surrogate.split.test)) == 0
    assert gam.curves["split"] == ("fitted on 500 of 4,000 rows (a sample stratified by the model's class); "
                                   "fidelity on 800 held-out rows")
    with torch.no_grad():
        classes = model(torch.tensor(X[:4_000], dtype=torch.float32)).argmax(1).numpy()
    for rows in (gam.surrogate.split.train, gam.surrogate.split.test):  # the minority's share, to a row
        assert abs(classes[rows].sum() - classes.mean() * len(rows)) <= 1
    assert gam.status == "" and "500 rows" in GamFit(0, GamOptions(fit_rows=500)).describe(small)


def test_importance_and_lime_say_how_many_rows_they_used():
    model, X = imbalanced()
    s = nw.Inspector(model, X)
    imp = s.compute(Importance("accuracy", 2, 5_000))
    assert (imp.rows, imp.total_rows, imp.repeats) == (5_000, 50_000, 2)
    lime = s.compute(Lime(tuple(X[0]), 1, LimeOptions(num_samples=500)))
    assert (lime.training_rows, lime.total_rows) == (20_000, 50_000)


def test_slow_work_on_big_data_never_runs_on_the_kernels_thread(monkeypatch):
    """Building a Dashboard and moving through rows: every pass over the data, fit and shuffle runs
    on a worker; the caller's thread only asks."""
    from nnwidgets.core import tasks

    seen = []
    for name in ("dataset_pass", "fit_gam", "permutation_importance", "explain_lime", "fit_tree"):
        real = getattr(tasks, name)
        monkeypatch.setattr(tasks, name, lambda *a, _real=real, _name=name, **k: seen.append((_name, threading.current_thread().name)) or _real(*a, **k))
    model, X = imbalanced()
    s = nw.Inspector(model, X)
    dash = nw.Dashboard(s)
    for i in range(3):
        s.values = X[i]
    dash.wait()
    assert {name for name, _ in seen} == {"dataset_pass", "fit_gam", "permutation_importance", "explain_lime", "fit_tree"}
    assert all(thread == "nnwidgets-slow" for _, thread in seen), seen
    assert all(view.error == "" for view in dash.views)


def test_float32_data_stays_float32():
    X = np.random.default_rng(0).normal(size=(1_000, 4)).astype(np.float32)
    s = nw.Inspector(nn.Linear(4, 2), X)
    assert s.data.X is X or np.shares_memory(s.data.X, X)
    assert s.data.X.dtype == np.float32
    assert s.compute(SurrogateSample(500, 200, 0.2, 0)).split.total == 1_000
