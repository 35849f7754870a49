"""The read-only shadow: the live weights' storage, its own flags, grads, hooks and buffers."""

import threading
import warnings

import torch
from torch import nn

from nnwidgets.core.shadow import ShadowModel, build_shadow
from conftest import assert_same_state, busy_model, fingerprint


def test_shares_weight_storage_and_sees_training_steps():
    net = busy_model()
    shadow = build_shadow(net)
    assert shadow[0].weight.data_ptr() == net[0].weight.data_ptr()
    assert not any(p.requires_grad for p in shadow.parameters())
    assert not shadow.training and net.training
    with torch.no_grad():
        net[4].weight.add_(1.0)
    assert torch.equal(shadow[4].weight, net[4].weight)


def test_running_the_shadow_leaves_the_model_bitwise_as_it_was():
    net = busy_model()
    before = fingerprint(net)
    shadows = ShadowModel(net)
    with shadows.use(version=0, grad=True) as shadow:
        x = torch.randn(16, 6, requires_grad=True)
        shadow(x).sum().backward()
        assert x.grad is not None
    assert_same_state(before, fingerprint(net))


def quantisation_aware_model() -> nn.Module:
    import torch.ao.quantization as tq

    torch.manual_seed(0)
    model = nn.Sequential(tq.QuantStub(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), tq.DeQuantStub())
    model.qconfig = tq.get_default_qat_qconfig("fbgemm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tq.prepare_qat(model.train(), inplace=True)
    model(torch.randn(32, 4))
    return model


def test_observers_of_a_qat_model_update_the_shadows_buffers_only():
    model = quantisation_aware_model()
    before = fingerprint(model)
    shadows = ShadowModel(model)
    with shadows.use(version=0) as shadow:
        shadow(torch.randn(64, 4) * 10)  # far outside what the observers saw: they would move
    assert_same_state(before, fingerprint(model))
    with shadows.use(version=0) as shadow:  # buffers are re-synced from the live model before each use
        live = dict(model.named_buffers())
        assert all(torch.equal(b, live[name]) for name, b in shadow.named_buffers())


def test_batchnorm_running_stats_follow_the_live_model():
    net = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3)).train()
    shadows = ShadowModel(net)
    x = torch.randn(10, 3)
    with shadows.use(version=0) as shadow:
        first = shadow(x)
    net(torch.randn(50, 3) + 5)  # the user trains: running statistics move
    with shadows.use(version=0) as shadow:
        second = shadow(x)
    net.eval()
    with torch.no_grad():
        assert torch.allclose(second, net(x)) and not torch.allclose(first, second)


def test_notebook_instrumentation_hooks_do_not_run_but_the_models_own_do():
    namespace = {"__name__": "__main__"}  # as in a notebook cell
    exec("seen = []\ndef record(module, inputs, output):\n    seen.append(output.shape)", namespace)
    net = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    net[0].register_forward_hook(namespace["record"])
    old_norm = torch.nn.utils.weight_norm  # computes `weight` in a pre-hook of its own
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        normed = old_norm(nn.Linear(3, 2))
    shadows = ShadowModel(nn.Sequential(net, normed))
    with shadows.use(version=0) as shadow:
        out = shadow(torch.ones(2, 3))
    assert namespace["seen"] == []
    with torch.no_grad():
        assert torch.allclose(out, normed(net(torch.ones(2, 3))))
    assert len(namespace["seen"]) == 1  # the user's own call still runs it


def test_tied_weights_stay_tied_and_parametrizations_work():
    emb = nn.Embedding(10, 4)
    head = nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    shadow = build_shadow(nn.Sequential(emb, head))
    assert shadow[0].weight is shadow[1].weight
    layer = nn.utils.parametrizations.weight_norm(nn.Linear(3, 3))
    copy = build_shadow(layer)
    with torch.no_grad():
        assert torch.allclose(copy(torch.ones(1, 3)), layer(torch.ones(1, 3)))


def test_each_thread_has_its_own_shadow_rebuilt_when_the_structure_changes():
    net = nn.Sequential(nn.Linear(2, 2))
    shadows = ShadowModel(net)
    seen = {}

    def grab(name, version=0):
        with shadows.use(version=version) as shadow:
            seen[name] = shadow

    grab("main")
    worker = threading.Thread(target=grab, args=("worker",))
    worker.start()
    worker.join()
    assert seen["main"] is not seen["worker"]
    grab("again")
    assert seen["again"] is seen["main"]  # same version: no rebuild
    net.append(nn.ReLU())
    grab("after", version=1)  # the inspector noticed the change and moved on a version
    assert seen["after"] is not seen["main"] and len(seen["after"]) == 2


def test_opaque_attributes_are_shared_not_copied():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 2)
            self.lock = threading.Lock()  # deepcopy cannot copy a lock

    model = Holder()
    assert build_shadow(model).lock is model.lock


def test_a_notebook_recorder_holding_a_lock_and_big_recordings_is_not_copied():
    namespace = {"__name__": "__main__"}
    exec(
        "import threading\n"
        "class Recorder:\n"
        "    def __init__(self):\n"
        "        self.lock = threading.Lock()\n"
        "        self.seen = []\n"
        "    def hook(self, module, inputs, output):\n"
        "        with self.lock:\n"
        "            self.seen.append(output)\n",
        namespace,
    )
    recorder = namespace["Recorder"]()
    net = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    net[1].register_forward_hook(recorder.hook)
    shadow = build_shadow(net)  # deepcopy of the lock would fail
    shadow(torch.ones(2, 3))
    assert recorder.seen == [] and not shadow[1]._forward_hooks
    assert len(net[1]._forward_hooks) == 1


def test_a_large_buffer_written_through_data_is_copied_on_the_next_model_version():
    class Offset(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("big", torch.zeros(70_000))

        def forward(self, x):
            return x + self.big[: x.shape[1]]

    model = Offset()
    shadows = ShadowModel(model)
    with shadows.use(version=0) as shadow:
        assert shadow(torch.zeros(1, 3)).sum().item() == 0
    model.big.data.add_(100)  # no version counter moves
    with shadows.use(version=1) as shadow:  # the inspector saw the change (its probe) and moved on a version
        assert shadow(torch.zeros(1, 3)).sum().item() == 300
