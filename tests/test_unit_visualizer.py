"""UnitVisualizer (issue 10, point 4): gradient ascent on a small digits CNN raises a conv channel, a linear
unit and a class logit far above their mean over real pictures, measured by running the user's own model on
the returned picture with a forward hook (the oracle); the model is untouched, also while it trains in a
thread; a newer request cancels a running one; bad inputs say why."""

import threading
import time

import numpy as np
import pytest
import torch
import traitlets
from sklearn.datasets import load_digits
from torch import nn

import nnwidgets as nw
from conftest import assert_same_state, fingerprint
from nnwidgets.core import decode_array
from nnwidgets.core.unit_visualizer import AscentOptions, UnitAscent, gaussian_blur, unit_ascent, unit_targets

CLASSES = [str(d) for d in range(10)]


def digits_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 10))


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.images[:, None] / 16.0, d.target


@pytest.fixture(scope="module")
def cnn(digits):
    """Trained for about three seconds (100 full-batch Adam steps, seeded): right on nearly every digit."""
    images, labels = digits
    net = digits_cnn()
    x, y = torch.tensor(images, dtype=torch.float32), torch.tensor(labels)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(100):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return net.eval()


def hooked(net: nn.Module, layer: str, pictures: np.ndarray) -> np.ndarray:
    """The oracle: the user's model run directly, a forward hook on ``layer`` (in the test only); one value
    per unit and picture (a channel's map averaged), or the model's outputs for layer ""."""
    kept = []
    module = net if layer == "" else net.get_submodule(layer)
    handle = module.register_forward_hook(lambda m, i, o: kept.append(o.detach().double()))
    try:
        with torch.no_grad():
            net(torch.tensor(np.asarray(pictures), dtype=torch.float32))
    finally:
        handle.remove()
    out = kept[0]
    return (out.reshape(out.shape[0], out.shape[1], -1).mean(dim=2) if out.dim() > 2 else out).numpy()


def selective_unit(means: np.ndarray) -> int:
    """A selective unit: the smallest mean over real pictures among units whose mean is positive and at least
    a hundredth of the largest mean (a rule, so the test picks no unit by hand)."""
    ok = np.where(means >= 0.01 * means.max())[0]
    ok = ok[means[ok] > 0]
    return int(ok[np.argmin(means[ok])])


@pytest.mark.parametrize("layer, kind", [("0", "channel"), ("6", "unit"), ("", "class")])
def test_ascent_raises_the_target_far_above_the_mean_over_real_pictures(cnn, digits, layer, kind):
    images, _ = digits
    s = nw.Inspector(cnn, images, class_names=CLASSES)
    real = hooked(cnn, layer, images)
    unit = selective_unit(real.mean(axis=0))
    before = fingerprint(cnn)
    uv = nw.UnitVisualizer(s, layer=layer, unit=unit)
    r = uv.result
    assert not uv.error and r.layer == layer and r.unit == unit
    assert r.image.shape == (1, 8, 8) and r.image.min() >= 0.0 and r.image.max() <= 1.0  # the data's range
    reached = hooked(cnn, layer, r.image[None])[0, unit]
    np.testing.assert_allclose(r.final, reached, rtol=1e-4, atol=1e-5)  # what it reports is what the model does
    ratio = reached / real[:, unit].mean()
    print(f"\n{kind} {unit} of layer {layer!r}: {reached:.4g} = {ratio:.1f}x the mean over {len(images)} real pictures "
          f"(the best real picture: {real[:, unit].max():.4g})")
    assert ratio >= 5
    assert reached > real[:, unit].max()  # above every real picture too
    assert r.activations[-1] > r.activations[0] and len(r.activations) == uv.steps == 128
    probe = hooked(cnn, layer, images[np.sort(np.random.default_rng(0).choice(len(images), 256, replace=False))])
    assert r.probe_rows == 256 and r.mean_over_data == pytest.approx(probe[:, unit].mean(), rel=1e-4, abs=1e-6)
    assert r.ratio == pytest.approx(r.final / r.mean_over_data)
    assert_same_state(before, fingerprint(cnn))
    assert all(p.grad is None for p in cnn.parameters())
    payload = uv.ascent
    assert payload["unit"] == unit and payload["rows"] == 256 and payload["target"] == r.target_description
    np.testing.assert_array_equal(decode_array(payload["image"]), r.image.astype(np.float32))
    np.testing.assert_array_equal(decode_array(payload["activations"]), r.activations)


def test_most_channels_beat_every_real_picture(cnn, digits):
    images, _ = digits
    s = nw.Inspector(cnn, images)
    real = hooked(cnn, "2", images)
    reached = np.array([hooked(cnn, "2", unit_ascent(s, "2", u).image[None])[0, u] for u in range(16)])
    assert (reached >= real.max(axis=0)).mean() >= 0.9


def test_descriptions_targets_and_settings(cnn, digits):
    images, _ = digits
    s = nw.Inspector(cnn, images, class_names=CLASSES)
    kinds = {t.layer: (t.kind, t.units) for t in unit_targets(s)}
    assert kinds[""] == ("class", 10) and kinds["0"] == ("channel", 16) and kinds["6"] == ("unit", 32) and kinds["5"] == ("unit", 256)
    assert unit_ascent(s, "output", 3, AscentOptions(steps=4)).target_description == "class 3: its logit"
    assert unit_ascent(s, "0", 2, AscentOptions(steps=4)).target_description == "channel 2 of 0 (Conv2d): its map's mean"
    assert unit_ascent(s, "6", 7, AscentOptions(steps=4)).target_description == "unit 7 of 6 (Linear)"
    # Seeded: the same settings give the same picture; another seed another start.
    a, b = unit_ascent(s, "0", 2, AscentOptions(steps=8)), unit_ascent(s, "0", 2, AscentOptions(steps=8))
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, unit_ascent(s, "0", 2, AscentOptions(steps=8, seed=1)).image)
    # The regularisers act: no steps of ascent to speak of (a tiny lr), strong decay pulls toward mid-grey.
    still = unit_ascent(s, "0", 2, AscentOptions(steps=20, lr=1e-9, l2=0.5, blur_every=0, jitter=0))
    assert np.abs(still.image - 0.5).max() < 1e-3
    with pytest.raises(ValueError, match="steps must be"):
        unit_ascent(s, "0", 2, AscentOptions(steps=0))


def test_blur_is_a_normalised_gaussian():
    x = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
    x[0, 0, 4, 4] = 1.0
    blurred = gaussian_blur(x, 1.0)[0, 0].numpy()
    t = np.arange(-3, 4)
    k = np.exp(-0.5 * t**2)
    k /= k.sum()
    np.testing.assert_allclose(blurred[1:8, 1:8], np.outer(k, k), rtol=1e-12)
    assert blurred.sum() == pytest.approx(1.0)
    assert torch.equal(gaussian_blur(x, 0.0), x)


def test_preprocess_in_torch_optimises_raw_pixels(cnn, digits):
    images, _ = digits
    preprocess = lambda b: (b - 0.3) / 0.4  # noqa: E731 - numpy or torch alike
    shifted = nn.Sequential(nn.Identity(), *list(cnn.children()))  # same weights; expects standardised pixels
    s = nw.Inspector(shifted, images, preprocess=preprocess)
    r = nw.UnitVisualizer(s, layer="1", unit=3).result
    assert r.image.min() >= 0.0 and r.image.max() <= 1.0
    reached = hooked(shifted, "1", preprocess(r.image[None]))[0, 3]
    np.testing.assert_allclose(r.final, reached, rtol=1e-4, atol=1e-5)

    numpy_only = nw.Inspector(cnn, images, preprocess=lambda b: np.asarray(b) * 1.0)
    uv = nw.UnitVisualizer(numpy_only, layer="0", unit=1).wait()
    assert "compute in torch" in uv.error and uv.result is None


def test_view_follows_the_selected_layer_and_runs_on_changes(cnn, digits):
    images, _ = digits
    s = nw.Inspector(cnn, images, class_names=CLASSES)
    uv = nw.UnitVisualizer(s, steps=16).wait()
    assert uv.layer == s.selected_layer == "0" and uv.result.layer == "0"
    assert [entry["name"] for entry in uv.layers][:2] == ["", "0"]
    s.selected_layer = "6"
    uv.wait()
    assert uv.layer == "6" and uv.result.layer == "6"
    uv.unit = 31
    assert uv.result.unit == 31
    uv.layer = "0"  # fewer units: back to unit 0; chosen by hand, so it stops following
    assert uv.unit == 0 and uv.result.layer == "0"
    s.selected_layer = "2"
    uv.wait()
    assert uv.layer == "0"
    uv.set_trait("seed", 0)
    uv._on_message(uv, {"event": "run"}, [])  # the page's run button with nothing changed
    assert uv.wait().result.unit == 0
    fig = uv.figure()
    assert len(fig.axes) == 2
    pinned = nw.UnitVisualizer(s, layer="", unit=4, steps=8)
    s.selected_layer = "6"
    assert pinned.wait().layer == "" and pinned.result.target_description == "class 4: its logit"


def test_a_newer_request_cancels_a_running_one(cnn, digits):
    images, _ = digits
    s = nw.Inspector(cnn, images)
    uv = nw.UnitVisualizer(s, layer="0", unit=1, steps=100_000)
    deadline = time.monotonic() + 30
    while "step" not in uv.status and time.monotonic() < deadline:  # the long ascent is running
        time.sleep(0.01)
    assert uv.busy and "of 100000" in uv.status
    started = time.monotonic()
    with uv.hold_trait_notifications():
        uv.steps, uv.unit = 16, 2
    r = uv.result
    assert r.unit == 2 and len(r.activations) == 16 and not uv.error
    assert time.monotonic() - started < 20  # 100,000 steps would take minutes here
    hit, _ = s.peek(UnitAscent("0", 1, AscentOptions(steps=100_000)))
    assert not hit  # stopped, never finished


def test_bad_inputs_say_why(cnn, digits):
    images, _ = digits
    s = nw.Inspector(cnn, images)
    with pytest.raises(TypeError, match="needs image data"):
        nw.UnitVisualizer(nw.Inspector(nn.Linear(4, 2), np.zeros((5, 4))))
    with pytest.raises(TypeError, match="needs images"):
        nw.UnitVisualizer(nn.Linear(4, 2), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        nw.UnitVisualizer(s, layer="conv9")
    with pytest.raises(ValueError, match=r"unit must be 0\.\.15 for layer '0'"):
        nw.UnitVisualizer(s, layer="0", unit=16)
    with pytest.raises(ValueError, match=r"0\.\.9 for the output"):
        nw.UnitVisualizer(s, layer="output", unit=10)
    uv = nw.UnitVisualizer(s, layer="0", unit=3, steps=8)
    with pytest.raises(ValueError, match="unit must be"):
        uv.unit = -1
    with pytest.raises(traitlets.TraitError, match="steps out of range"):
        uv.steps = 0
    with pytest.raises(traitlets.TraitError, match="lr out of range"):
        uv.lr = -1.0
    with pytest.raises(traitlets.TraitError, match="lr out of range"):
        uv.lr = float("inf")  # refused here, not later by the ascent in the error trait
    with pytest.raises(traitlets.TraitError, match="blur_sigma out of range"):
        uv.blur_sigma = float("inf")
    assert uv.unit == 3 and uv.steps == 8
    assert uv.result.unit == 3 and not uv.error  # still works after the refused values


def test_model_untouched_and_no_grads_while_the_user_trains_in_a_thread(digits):
    images, labels = digits
    net = digits_cnn().train()
    s = nw.Inspector(net, images[:300])
    x, y = torch.tensor(images[:64], dtype=torch.float32), torch.tensor(labels[:64])
    params = list(net.parameters())
    problems, done = [], threading.Event()

    def train():
        optimizer = torch.optim.SGD(params, lr=0.01)
        try:
            for _ in range(150):
                optimizer.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(net(x), y)
                expected = torch.autograd.grad(loss, params, retain_graph=True)  # the user's gradient, computed apart
                loss.backward()
                if not all(torch.equal(p.grad, g) for p, g in zip(params, expected)):
                    problems.append("a gradient differed from the user's own")
                if not all(m.training for m in net.modules()) or not all(p.requires_grad for p in params):
                    problems.append("the model's flags changed")
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        finally:
            done.set()

    thread = threading.Thread(target=train)
    thread.start()
    runs = 0
    while not done.is_set():
        r = unit_ascent(s, ["0", "6", ""][runs % 3], 1, AscentOptions(steps=16, seed=runs))
        assert np.isfinite(r.final)
        runs += 1
    thread.join()
    assert not problems and runs >= 2
    before = fingerprint(net)
    uv = nw.UnitVisualizer(s, layer="2", unit=5, steps=16)
    uv.wait()
    uv.layer, uv.unit = "", 2
    uv.figure()
    assert_same_state(before, fingerprint(net))
    assert all(p.grad is None for p in params) and net.training


class Switch:
    """Shared by the model and its shadow (an opaque attribute): the user's code decides when forward fails."""

    broken = True


class Fragile(nn.Module):
    """Fails in a forward pass that needs gradients while ``switch.broken``: the ascent fails, nothing else."""

    def __init__(self) -> None:
        super().__init__()
        self.switch = Switch()
        self.body = digits_cnn()

    def forward(self, x):
        if self.switch.broken and x.requires_grad:
            raise RuntimeError("this model refuses gradients today")
        return self.body(x)


def test_an_error_shows_in_the_widget_and_the_next_valid_input_recovers(digits):
    images, _ = digits
    net = Fragile()
    uv = nw.UnitVisualizer(net, images[:100], layer="body.0", unit=1, steps=8).wait()
    assert uv.error == "gradient ascent failed: this model refuses gradients today" and uv.result is None
    net.switch.broken = False
    uv.unit = 2
    assert uv.result.unit == 2 and uv.error == ""
