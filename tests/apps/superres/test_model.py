"""Super-resolution generators: exact bicubic start, shapes at every scale, the reference sizes."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from gan_app.apps.superres.model import BicubicPhases, SRModelConfig, build_discriminator, build_generator


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_phases_equal_torch_bicubic_including_borders(scale):
    x = torch.rand(2, 3, 7, 11)
    got = F.pixel_shuffle(BicubicPhases(scale)(x), scale)
    want = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


@pytest.mark.parametrize("scale", [2, 4])
def test_untrained_fast_model_is_bicubic_and_learns_a_residual(scale):
    g = build_generator(SRModelConfig(scale=scale, width=8, blocks=2)).eval()
    x = torch.rand(1, 3, 10, 12)
    bicubic = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False).clamp(0, 1)
    torch.testing.assert_close(g(x), bicubic, atol=1e-6, rtol=0)
    torch.nn.init.normal_(g.subpixel.weight, std=0.1)                   # a trained model adds detail
    assert (g(x) - bicubic).abs().max() > 1e-3


@pytest.mark.parametrize("generator,width,blocks", [("fast", 8, 1), ("srresnet", 8, 2), ("rrdb", 8, 1)])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_generators_upscale_by_scale_and_clamp_in_eval(generator, width, blocks, scale):
    g = build_generator(SRModelConfig(generator=generator, scale=scale, width=width, blocks=blocks, growth=4))
    x = torch.rand(2, 3, 9, 13)
    assert g(x).shape == (2, 3, 9 * scale, 13 * scale)
    y = g.eval()(x)
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_srresnet_is_srgans_size_and_fast_default_is_small():
    srresnet = build_generator(SRModelConfig(generator="srresnet", width=64, blocks=16))
    n = sum(p.numel() for p in srresnet.parameters())
    assert 1.50e6 < n < 1.60e6            # SRGAN's SRResNet x4: ~1.55 M parameters
    fast = sum(p.numel() for p in build_generator(SRModelConfig()).parameters())
    assert fast < 0.15e6


def test_discriminator_gives_patch_logits_and_bad_configs_fail():
    d = build_discriminator(SRModelConfig(d_width=8, d_layers=2))
    assert d(torch.rand(2, 3, 64, 64)).shape[:2] == (2, 1)
    with pytest.raises(ValueError, match="scale"):
        build_generator(SRModelConfig(scale=5))
    with pytest.raises(ValueError, match="generator"):
        build_generator(SRModelConfig(generator="edsr"))


def test_deeper_fast_model_started_from_a_shallower_one_computes_the_same_function():
    from gan_app.checkpoint import load_module

    shallow = build_generator(SRModelConfig(width=8, blocks=2))
    for p in shallow.parameters():                                      # a "trained" model: every weight non-zero
        torch.nn.init.normal_(p, std=0.1)
    deep = build_generator(SRModelConfig(width=8, blocks=5))
    kept = load_module("G", deep, {f"G.{k}": v for k, v in shallow.state_dict().items()}, allow_missing=True)
    assert sorted({k.split(".")[1] for k in kept}) == ["2", "3", "4"]  # the grown blocks keep their initialisation
    x = torch.rand(1, 3, 12, 10)
    torch.testing.assert_close(deep.eval()(x), shallow.eval()(x), atol=1e-6, rtol=0)


def test_real_gan_recipe_is_the_real_model_with_a_per_pixel_unet_critic():
    """Real-ESRGAN's second stage: the `real` generator and data, a relativistic game, one logit per HR pixel."""
    from gan_app.apps.superres.head import HEAD

    real, gan = HEAD.recipe("real"), HEAD.recipe("real-gan")
    assert dataclasses.replace(gan.model, critic=real.model.critic, d_width=real.model.d_width) == real.model
    assert gan.data == real.data and gan.train.loss == "relativistic" and gan.train.adv_weight > 0
    critic = build_discriminator(dataclasses.replace(gan.model, d_width=4))
    assert critic(torch.rand(2, 3, 48, 40)).shape == (2, 1, 48, 40)
    with pytest.raises(ValueError, match="use patchgan or unet"):
        build_discriminator(dataclasses.replace(gan.model, critic="global"))


def _residual(net, x):
    """FastSR's learnt part alone: the shuffled sub-pixel output, without the bicubic phases. (B, 3, sh, sw)"""
    feats = net.stem(x)
    return net.shuffle(net.subpixel(feats + net.body(feats)))


def test_a_fast_model_of_another_scale_loads_with_its_residual_box_downscaled_or_nearest_upsampled():
    """`train.init_from` an x4 model into an x2 run (and back): the body is scale-free, the sub-pixel phases convert."""
    torch.manual_seed(0)
    x4 = build_generator(SRModelConfig(scale=4, width=8, blocks=2))
    for p in x4.parameters():
        torch.nn.init.normal_(p, std=0.1)          # a trained-looking state (a fresh one has a zero sub-pixel conv)
    x2 = build_generator(SRModelConfig(scale=2, width=8, blocks=2))
    x2.load_state_dict(x4.state_dict())
    x = torch.rand(1, 3, 10, 12)
    with torch.no_grad():
        torch.testing.assert_close(_residual(x2, x), F.avg_pool2d(_residual(x4, x), 2), atol=1e-6, rtol=0)
        back = build_generator(SRModelConfig(scale=4, width=8, blocks=2))
        back.load_state_dict(x2.state_dict())
        torch.testing.assert_close(_residual(back, x), F.interpolate(_residual(x2, x), scale_factor=2, mode="nearest"),
                                   atol=1e-6, rtol=0)
    x3 = build_generator(SRModelConfig(scale=3, width=8, blocks=2))
    with pytest.raises(RuntimeError, match="size mismatch"):   # 4 and 3: no phase maps onto the other
        x3.load_state_dict(x4.state_dict())
