"""make_norm / make_act options and the spectral-norm helpers."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.nn.utils import parametrize

from gan_app.losses.improved import VirtualBatchNorm2d
from gan_app.nn.conditional import ConditionalBatchNorm2d
from gan_app.nn.norm import is_conditional, make_act, make_norm, maybe_spectral, remove_spectral_norm_


def test_make_norm_kinds():
    assert type(make_norm("batch", 4)) is nn.BatchNorm2d
    inst = make_norm("instance", 4)
    assert isinstance(inst, nn.InstanceNorm2d) and inst.affine and not inst.track_running_stats
    assert isinstance(make_norm("none", 4), nn.Identity)
    for kind in ("cbn", "batch", "virtual"):
        cbn = make_norm(kind, 4, conditional_classes=3)
        assert isinstance(cbn, ConditionalBatchNorm2d) and is_conditional(cbn)
        assert cbn.gamma.weight.shape == (3, 4)
        assert isinstance(cbn.bn, VirtualBatchNorm2d if kind == "virtual" else nn.BatchNorm2d)
    vbn = make_norm("virtual", 4)
    assert type(vbn) is VirtualBatchNorm2d and vbn.weight.shape == (4,) and not is_conditional(vbn)


@pytest.mark.parametrize("kind, classes", [("group", 0), ("cbn", 0), ("instance", 2), ("none", 2)])
def test_make_norm_rejects(kind, classes):
    with pytest.raises(ValueError):
        make_norm(kind, 4, conditional_classes=classes)


def test_instance_norm_uses_per_image_stats_in_eval():
    norm = make_norm("instance", 2).eval()
    x = torch.randn(3, 2, 5, 5) * 4 + 7
    y = norm(x)
    torch.testing.assert_close(y.mean(dim=(2, 3)), torch.zeros(3, 2), atol=1e-5, rtol=0)


def test_make_act():
    lrelu = make_act("lrelu")
    assert torch.equal(lrelu(torch.tensor([-10.0, 3.0])), torch.tensor([-2.0, 3.0]))
    assert isinstance(make_act("none"), nn.Identity)
    with pytest.raises(ValueError):
        make_act("swish2")


def _sigma(weight: torch.Tensor, dim: int = 0) -> float:
    w = weight.transpose(0, dim).reshape(weight.shape[dim], -1)
    return torch.linalg.matrix_norm(w, ord=2).item()


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(3, 8, 3), lambda: nn.Linear(6, 5), lambda: nn.ConvTranspose2d(4, 6, 4)])
def test_spectral_norm_bounds_top_singular_value(make):
    torch.manual_seed(0)  # power iteration converges at a rate set by the weights: fix them
    layer = make()
    with torch.no_grad():
        layer.weight.mul_(10)
    assert _sigma(layer.weight, 1 if isinstance(layer, nn.ConvTranspose2d) else 0) > 2
    sn = maybe_spectral(layer, True).train()
    x = torch.randn(2, 6) if isinstance(layer, nn.Linear) else torch.randn(2, sn.in_channels, 8, 8)
    for _ in range(100):  # one power iteration per train-mode forward
        sn(x)
    dim = 1 if isinstance(layer, nn.ConvTranspose2d) else 0  # torch normalises ConvTranspose over dim 1
    assert _sigma(sn.weight.detach(), dim) == pytest.approx(1.0, abs=1e-3)


def test_maybe_spectral_disabled_is_a_no_op():
    conv = nn.Conv2d(2, 2, 3)
    assert maybe_spectral(conv, False) is conv and not parametrize.is_parametrized(conv)


def test_remove_spectral_norm_bakes_eval_weight_and_keeps_other_parametrizations():
    model = nn.Sequential(
        maybe_spectral(nn.Conv2d(2, 4, 3), True),
        nn.utils.parametrizations.weight_norm(nn.Conv2d(4, 2, 3)),
    )
    x = torch.randn(2, 2, 9, 9)
    model.train()
    for _ in range(3):
        model(x)
    model.eval()
    with torch.no_grad():
        before = model(x)
        w_eval = model[0].weight.clone()
    model.train()  # removal must not run another power iteration even in train mode
    remove_spectral_norm_(model)
    assert not parametrize.is_parametrized(model[0])
    assert parametrize.is_parametrized(model[1], "weight")
    assert torch.equal(model[0].weight, w_eval)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), before)


def test_legacy_exporter_works_after_removing_spectral_norm(tmp_path):
    """The legacy (TorchScript) exporter cannot export the parametrization; baked weights can."""
    import onnxruntime as ort

    model = nn.Sequential(maybe_spectral(nn.Conv2d(3, 4, 3), True), nn.LeakyReLU(0.2))
    model(torch.randn(2, 3, 8, 8))
    model.eval()
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        expected = model(x).numpy()
    remove_spectral_norm_(model)
    path = tmp_path / "legacy.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter is deprecated
        torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"])
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
