import pytest
import torch
from torch import nn

from nnwidgets.core import ensure_module, model_access
from conftest import assert_same_state, fingerprint


def test_inside_is_eval_without_autograd(busy):
    with model_access(busy) as m:
        assert m is busy
        assert not any(mod.training for mod in busy.modules())
        assert not torch.is_grad_enabled()


def test_grad_mode_on_request(busy):
    with model_access(busy, grad=True):
        assert torch.is_grad_enabled()


def test_restores_everything_after_disturbance(busy):
    before = fingerprint(busy)
    with model_access(busy, grad=True) as m:
        out = m(torch.randn(4, 6)).sum()
        for p in m.parameters():
            p.grad = None
            p.requires_grad_(True)
        out.backward()
        m[0].register_forward_hook(lambda *a: None)
        m[2].register_forward_pre_hook(lambda *a: None)
        m.train()
    assert_same_state(before, fingerprint(busy))


def test_restores_on_error(busy):
    before = fingerprint(busy)
    with pytest.raises(RuntimeError, match="boom"):
        with model_access(busy) as m:
            m[0].register_forward_hook(lambda *a: None)
            raise RuntimeError("boom")
    assert_same_state(before, fingerprint(busy))
    assert busy.training and not busy[1].training


def test_eval_forward_leaves_batchnorm_statistics(busy):
    before = fingerprint(busy)
    with model_access(busy) as m:
        m(torch.randn(16, 6) * 10)
    assert_same_state(before, fingerprint(busy))


@pytest.mark.parametrize("bad", [None, 3, "model", [nn.Linear(1, 1)], torch.zeros(2)])
def test_not_a_module(bad):
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        ensure_module(bad)
    with pytest.raises(TypeError):
        with model_access(bad):
            pass


def test_overlapping_threads_restore_training_mode(busy):
    import threading

    before = fingerprint(busy)
    inside = threading.Barrier(2, timeout=5)
    errors = []

    def reader():
        try:
            with model_access(busy) as m:
                m(torch.randn(2, 6))
                try:
                    inside.wait(timeout=0.2)  # with the lock, the other thread cannot be inside too
                except threading.BrokenBarrierError:
                    pass
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_same_state(before, fingerprint(busy))
