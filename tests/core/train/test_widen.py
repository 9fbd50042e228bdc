"""train.init_widen: a wider model started from a narrower one computes the same function, then learns."""

import pytest
import torch
from torch import nn

from gan_app.apps.superres.model import FastSR
from gan_app.checkpoint import save_checkpoint
from gan_app.errors import UserError
from gan_app.train.state import load_start_weights
from gan_app.train.widen import widened_state


def _trained_like(model: nn.Module) -> nn.Module:
    """Random weights everywhere (a fresh FastSR has zero output convs and would hide mistakes)."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    return model


def _save(model: nn.Module, path):
    save_checkpoint(path, {f"G.{k}": v for k, v in model.state_dict().items()}, {"step": 0})
    return path


def test_widened_fast_sr_starts_as_the_narrow_model_and_its_new_channels_learn(tmp_path):
    narrow = _trained_like(FastSR(2, width=16, blocks=3)).eval()
    wide = FastSR(2, width=24, blocks=3)
    load_start_weights(_save(narrow, tmp_path / "narrow.safetensors"), wide, None, widen=True)
    x = torch.rand(2, 3, 12, 10)
    wide.eval()
    torch.testing.assert_close(wide(x), narrow(x), rtol=0, atol=1e-6)
    # the new channels are not dead: one gradient step on the output changes it through them
    wide.train()
    loss = (wide(x) - torch.rand(2, 3, 24, 20)).abs().mean()
    loss.backward()
    assert float(wide.subpixel.weight.grad[:, 16:].abs().sum()) > 0     # how the new channels reach the output
    assert float(wide.stem.weight.grad[16:].abs().sum()) == 0            # (their producers wait for that weight)


def test_widening_without_the_option_is_a_shape_error(tmp_path):
    path = _save(FastSR(2, width=16, blocks=1), tmp_path / "narrow.safetensors")
    with pytest.raises(UserError, match="do not fit"):
        load_start_weights(path, FastSR(2, width=24, blocks=1), None)


def test_widening_refuses_to_shrink_and_grouped_layers():
    wide = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 3, groups=8))
    with pytest.raises(UserError, match="may only grow"):
        widened_state(wide, {"0.weight": torch.zeros(16, 3, 3, 3)})
    with pytest.raises(UserError, match="grouped"):
        widened_state(wide, {"1.weight": torch.zeros(4, 1, 3, 3)})


def test_transposed_convs_keep_the_function_with_their_in_out_layout():
    torch.manual_seed(0)
    narrow = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.ConvTranspose2d(4, 5, 2, stride=2),
                           nn.ReLU(), nn.Conv2d(5, 3, 1))
    wide = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.ConvTranspose2d(6, 7, 2, stride=2),
                         nn.ReLU(), nn.Conv2d(7, 3, 1))
    wide.load_state_dict(widened_state(wide, narrow.state_dict()))
    x = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(wide(x), narrow(x), rtol=0, atol=1e-6)
