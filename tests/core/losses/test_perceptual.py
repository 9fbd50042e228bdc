"""VGG perceptual loss: layers, normalisation, freezing, and where its weights come from."""

import time
import urllib.error

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from gan_app.errors import UserError
from gan_app.losses.perceptual import RANDOM_DESCRIPTION, VGGPerceptualLoss

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def _random_loss(**kw):
    with pytest.warns(UserWarning, match="RANDOM VGG19 weights"):
        return VGGPerceptualLoss(weights=None, **kw)


def _vgg_state(n_layers, prefix="features."):
    """A VGG19 feature state dict for the first n_layers modules, distinct from the random init."""
    torch.manual_seed(123)
    feats = make_layers(cfgs["E"])[:n_layers]
    return {prefix + k: v.contiguous() for k, v in feats.state_dict().items()}


def test_random_weights_warn_and_say_so():
    loss = _random_loss()
    assert loss.weights_description == RANDOM_DESCRIPTION
    with pytest.warns(UserWarning, match="NOT ImageNet"):
        assert VGGPerceptualLoss(weights="random").weights_description == RANDOM_DESCRIPTION
    # Fixed seed, and the caller's RNG is left alone.
    torch.manual_seed(5)
    expected_next = torch.rand(1)
    torch.manual_seed(5)
    again = _random_loss()
    assert torch.rand(1) == expected_next
    torch.testing.assert_close(again.features[0].weight, loss.features[0].weight)


def test_zero_for_identical_positive_otherwise_and_frozen():
    loss = _random_loss()
    x = torch.rand(2, 3, 16, 16)
    assert loss(x, x).item() == 0.0
    pred = torch.rand(2, 3, 16, 16, requires_grad=True)
    value = loss(pred, x)
    assert value.item() > 0
    value.backward()
    assert pred.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in loss.parameters())
    loss.train()
    assert loss.training and not loss.features.training


@pytest.mark.parametrize(
    "layer, depth, last", [("conv3_3", 15, nn.Conv2d), ("relu3_3", 16, nn.ReLU), ("relu5_4", 36, nn.ReLU)]
)
def test_truncated_after_deepest_layer(layer, depth, last):
    loss = _random_loss(layers=(layer, "conv1_1"))
    assert len(loss.features) == depth and isinstance(loss.features[-1], last)


def test_weighted_layers_closed_form_pre_and_post_activation():
    loss = _random_loss(layers={"conv1_2": 0.5, "relu2_1": 2.0}, criterion="l1")
    feats = loss.features
    x, y = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    nx, ny = (x - MEAN) / STD, (y - MEAN) / STD
    conv12 = lambda t: feats[2](F.relu(feats[0](t)))  # noqa: E731  pre-activation conv1_2
    relu21 = lambda t: F.relu(feats[5](F.max_pool2d(F.relu(conv12(t)), 2)))  # noqa: E731
    assert conv12(nx).min() < 0  # really before the ReLU (no in-place ReLU overwrote it)
    expected = 0.5 * F.l1_loss(conv12(nx), conv12(ny)) + 2.0 * F.l1_loss(relu21(nx), relu21(ny))
    torch.testing.assert_close(loss(x, y), expected)


def test_input_range_minus_one_one():
    unit = _random_loss()
    signed = _random_loss(input_range=(-1.0, 1.0))
    x, y = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(signed(2 * x - 1, 2 * y - 1), unit(x, y))


def test_bad_arguments():
    with pytest.raises(UserError, match="conv5_4"):
        VGGPerceptualLoss(layers="conv6_1", weights=None)
    with pytest.raises(UserError):
        VGGPerceptualLoss(criterion="l3", weights=None)
    loss = _random_loss()
    with pytest.raises(ValueError):
        loss(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8))


def test_imagenet_offline_without_download_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(UserError, match="--perceptual-weights PATH"):
        VGGPerceptualLoss(weights="imagenet", download=False)


def test_imagenet_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    start = time.monotonic()
    with pytest.raises(UserError, match="random"):
        VGGPerceptualLoss(weights="imagenet")
    assert time.monotonic() - start < 10


def test_imagenet_read_from_torch_home_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    state = _vgg_state(15)
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(state, tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth")
    loss = VGGPerceptualLoss(weights="imagenet", download=False)
    assert loss.weights_description.startswith("imagenet")
    torch.testing.assert_close(loss.features[14].weight, state["features.14.weight"])


@pytest.mark.parametrize("suffix, prefix", [(".safetensors", "features."), (".pth", ""), (".safetensors", "")])
def test_weights_from_file(tmp_path, suffix, prefix):
    state = _vgg_state(17, prefix)  # deeper than needed: extra keys are ignored
    path = tmp_path / f"vgg{suffix}"
    save_file(state, str(path)) if suffix == ".safetensors" else torch.save(state, path)
    loss = VGGPerceptualLoss(weights=path)
    torch.testing.assert_close(loss.features[12].weight, state[prefix + "12.weight"])
    assert str(path) in loss.weights_description


def test_bad_weight_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        VGGPerceptualLoss(weights=tmp_path / "missing.safetensors")
    shallow = tmp_path / "shallow.safetensors"
    save_file(_vgg_state(5), str(shallow))  # stops before conv3_3
    with pytest.raises(UserError, match="lacks features.5.weight"):
        VGGPerceptualLoss(weights=shallow)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="weights-only"):
        VGGPerceptualLoss(weights=garbage)


def test_autocast_bf16_agrees_with_fp32():
    loss = _random_loss(layers={"conv2_2": 1.0, "relu3_1": 0.5})
    x, y = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = loss(x, y)
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, loss(x, y), rtol=5e-2, atol=0)
