"""Device choice, the amp policy, and the one-GradScaler pattern shared by both players."""

from __future__ import annotations

import pytest
import torch

from gan_app.errors import UserError
from gan_app.train.devices import Precision, pick_device, resolve_amp


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu")
    with pytest.raises(UserError, match="no CUDA"):
        pick_device("cuda")
    with pytest.raises(UserError, match="MPS"):
        pick_device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto", local_rank=3) == torch.device("cuda", 3)
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(UserError, match="unknown device"):
        pick_device("tpu")


def test_amp_policy_never_uses_fp16_off_cuda(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda", 0)
    assert resolve_amp("auto", cpu) is None
    assert resolve_amp("off", cpu) is None
    assert resolve_amp("bf16", cpu) is torch.bfloat16  # explicit bf16 is allowed on CPU
    with pytest.raises(UserError, match="fp16 needs a CUDA"):
        resolve_amp("fp16", cpu)
    with pytest.raises(UserError, match="fp16 needs a CUDA"):
        resolve_amp("fp16", torch.device("mps"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_amp("auto", cuda) is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_amp("auto", cuda) is torch.float16
    assert resolve_amp("fp16", cuda) is torch.float16
    assert resolve_amp("off", cuda) is None
    with pytest.raises(UserError, match="unknown amp"):
        resolve_amp("fp8", cpu)


def test_scaler_is_on_only_for_fp16():
    assert not Precision(torch.device("cpu"), None).scaler.is_enabled()
    assert not Precision(torch.device("cpu"), torch.bfloat16).scaler.is_enabled()


def test_bf16_autocast_on_cpu_runs_matmuls_in_bf16():
    p = Precision(torch.device("cpu"), torch.bfloat16)
    with p.autocast():
        y = torch.nn.Linear(4, 4)(torch.randn(2, 4))
    assert y.dtype == torch.bfloat16
    with Precision(torch.device("cpu"), None).autocast():
        assert torch.nn.Linear(4, 4)(torch.randn(2, 4)).dtype == torch.float32


def test_one_scaler_two_players_overflow_skips_only_that_step():
    """D's overflowing step is skipped and halves the shared scale; G's step still applies exactly."""
    prec = Precision(torch.device("cpu"), None, scaler=True)  # a real GradScaler, exercised on CPU
    scale0 = prec.scaler.get_scale()
    d = torch.nn.Parameter(torch.ones(3))
    g = torch.nn.Parameter(torch.ones(3))
    opt_d = torch.optim.SGD([d], lr=0.1)
    opt_g = torch.optim.SGD([g], lr=0.1)

    prec.step((d * torch.tensor([1.0, float("inf"), 1.0])).sum(), opt_d)  # inf gradient
    assert torch.equal(d.detach(), torch.ones(3))  # skipped
    assert prec.scaler.get_scale() == scale0 * 0.5

    prec.step((g * torch.tensor([1.0, 2.0, 3.0])).sum(), opt_g)
    torch.testing.assert_close(g.detach(), torch.ones(3) - 0.1 * torch.tensor([1.0, 2.0, 3.0]))  # unscaled update
    prec.step((d * 2.0).sum(), opt_d)  # D can step again after the update
    torch.testing.assert_close(d.detach(), torch.ones(3) - 0.2)
