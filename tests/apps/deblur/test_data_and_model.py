"""Deblur datasets, evaluation protocol and generators."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image

from gan_app.apps.deblur.data import DeblurDataConfig, build_dataset, evaluation_pairs, write_paired_set
from gan_app.apps.deblur.head import HEAD
from gan_app.apps.deblur.model import DeblurLossConfig, DeblurModelConfig, build_generator, size_multiple
from gan_app.errors import UserError
from gan_app.paths import weights_root
from gan_app.stored import split_model


def _photos(folder, n=3, size=(80, 96)):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        base = rng.random((size[0] // 8, size[1] // 8, 3))
        img = np.kron(base, np.ones((8, 8, 1)))                  # blocky: edges that blur visibly
        Image.fromarray((img * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_sharp_folder_gives_blurred_pairs_and_is_seed_deterministic(tmp_path):
    cfg = DeblurDataConfig(path=str(_photos(tmp_path / "sharp")), crop=32, kernel_size=9, max_length=6, epoch_size=4,
                           noise=0.0, jpeg_prob=0.0)
    ds = build_dataset(cfg)
    torch.manual_seed(1)
    a = ds[0]
    torch.manual_seed(1)
    b = ds[0]
    assert a["source"].shape == a["target"].shape == (3, 32, 32)
    assert torch.equal(a["source"], b["source"]) and torch.equal(a["target"], b["target"])
    assert 0 <= float(a["source"].min()) and float(a["source"].max()) <= 1
    assert (a["source"] - a["target"]).abs().mean() > 1e-3       # really degraded
    # blur removes high frequencies: the blurred crop has less gradient energy
    grad = lambda t: (t[:, :, 1:] - t[:, :, :-1]).abs().mean()  # noqa: E731
    assert grad(a["source"]) < grad(a["target"])


def test_paired_folder_layout_is_detected(tmp_path):
    _photos(tmp_path / "blur"), _photos(tmp_path / "sharp")
    ds = build_dataset(DeblurDataConfig(path=str(tmp_path), crop=32))
    assert len(ds) == 3 and ds[0]["source"].shape == (3, 32, 32)


def test_bad_data_paths_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="not a folder"):
        build_dataset(DeblurDataConfig(path=str(tmp_path / "missing")))
    with pytest.raises(UserError, match="multiple of 4"):
        build_dataset(DeblurDataConfig(path=str(tmp_path), crop=30))
    with pytest.raises(UserError, match="multiple of 8"):
        build_dataset(DeblurDataConfig(path=str(_photos(tmp_path / "p")), crop=36), 8)


def test_evaluation_pairs_are_deterministic():
    a, b = evaluation_pairs(DeblurDataConfig(), max_side=64), evaluation_pairs(DeblurDataConfig(), max_side=64)
    if not a:
        pytest.skip("scikit-image photos unavailable")
    assert [n for n, *_ in a] == [n for n, *_ in b]
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert all(x[1].shape[0] % 4 == 0 and x[1].shape[1] % 4 == 0 for x in a)


def test_write_paired_set_writes_pairs_and_kernels_and_refuses_nonempty(tmp_path):
    out = tmp_path / "pairs"
    n = write_paired_set(_photos(tmp_path / "sharp", n=2), out, per_image=2, max_length=6)
    assert n == 4 and len(list((out / "blur").glob("*.png"))) == 4
    psf = np.load(out / "kernels" / "p0_0.npy", allow_pickle=False)
    assert psf.sum() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(UserError, match="not empty"):
        write_paired_set(tmp_path / "sharp", out)


def test_write_paired_set_refuses_two_photos_of_one_name_before_writing(tmp_path):
    sharp = _photos(tmp_path / "sharp", n=2)
    Image.open(sharp / "p0.png").convert("RGB").save(sharp / "p0.jpg")   # p0.png and p0.jpg: both p0_0.png
    with pytest.raises(UserError, match=r"p0.jpg and p0.png in .* would both be written as p0_0.png; rename one"):
        write_paired_set(sharp, tmp_path / "pairs")
    assert not (tmp_path / "pairs").exists()
    (sharp / "p0.jpg").unlink()
    (sharp / "sub").mkdir()
    (sharp / "p1.png").rename(sharp / "sub" / "P0.png")            # another folder, another case: still one name
    with pytest.raises(UserError, match=r"p0.png and sub/P0.png .* would both be written"):
        write_paired_set(sharp, tmp_path / "pairs")


def test_write_paired_set_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import os

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(UserError, match=r"cannot write .*blur/p0_0.png: No space left on device; free some space"):
        write_paired_set(_photos(tmp_path / "sharp", n=1), tmp_path / "pairs", max_length=6)
    assert not (tmp_path / "pairs").exists()


@pytest.mark.parametrize("upsample", ["shuffle", "transpose", "resize"])
@pytest.mark.parametrize("levels, side", [(2, (36, 44)), (3, (40, 48)), (4, (48, 64))])
def test_fast_generator_starts_as_identity_and_keeps_shape(levels, side, upsample):
    g = build_generator(DeblurModelConfig(width=8, blocks=2, levels=levels, upsample=upsample))
    x = torch.rand(2, 3, *side)
    torch.testing.assert_close(g(x), x)
    for name, param in g.named_parameters():        # trained (head and block outputs no longer zero):
        if name == "head.weight" or name.startswith("body.") and name.endswith("4.weight"):
            torch.nn.init.normal_(param, std=0.1)       # every level reaches the output
    g.zero_grad()
    g(x).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for n, p in g.named_parameters() if "weight" in n)


def test_fast_generator_levels_set_body_resolution_and_size_multiple():
    cfgs = [DeblurModelConfig(width=8, blocks=1, levels=levels) for levels in (2, 3, 4)]
    body_inputs = []
    for cfg in cfgs:
        g = build_generator(cfg)
        g.body.register_forward_hook(lambda m, i, o: body_inputs.append(tuple(i[0].shape)))
        g(torch.rand(1, 3, 32, 32))
    # 1/4 res at 2x width, 1/8 res at 4x width, 1/16 res at 8x width
    assert body_inputs == [(1, 16, 8, 8), (1, 32, 4, 4), (1, 64, 2, 2)]
    assert [size_multiple(c) for c in cfgs] == [4, 8, 16]
    assert HEAD.graph(cfgs[1]).size_multiple == 8
    assert size_multiple(DeblurModelConfig(generator="resnet9")) == 4
    with pytest.raises(ValueError, match="levels must be 2, 3 or 4"):
        build_generator(DeblurModelConfig(levels=5))
    with pytest.raises(ValueError, match="upsample must be shuffle, transpose or resize"):
        build_generator(DeblurModelConfig(upsample="bilinear"))


def test_pretrain_recipe_reproduces_the_shipped_architecture():
    """README's reproduction command is the pretrain recipe: it must build the model that ships."""
    card = json.loads((weights_root() / "deblur" / "deblur-v1.json").read_text())
    model, loss = split_model(card["model_config"], DeblurModelConfig, DeblurLossConfig)   # from before run.loss
    assert HEAD.recipe("pretrain").model == DeblurModelConfig(**model)   # missing keys: defaults
    assert HEAD.recipe("pretrain").loss == DeblurLossConfig(**loss) and loss["vgg_weights"] == "imagenet"
    assert HEAD.recipe("pretrain").data.crop == card["training"]["crop"]


def test_resnet9_is_the_deblurgan_v1_size():
    g = build_generator(DeblurModelConfig(generator="resnet9", width=64, blocks=9))
    n = sum(p.numel() for p in g.parameters())
    assert 11.0e6 < n < 11.8e6          # DeblurGAN v1 reports ~11.4 M parameters
    y = g(torch.rand(1, 3, 32, 32))
    assert y.shape == (1, 3, 32, 32) and 0 <= float(y.min()) and float(y.max()) <= 1


def _assert_exports_and_tiles_like_the_whole_image(g, cfg, tmp_path):
    """`g` (weights as if trained) exports to ONNX, changes the image, and tiled inference matches whole-image."""
    from gan_app.export import export_generator
    from gan_app.metrics.fidelity import psnr
    from gan_app.runtime.session import load_model
    from gan_app.runtime.tiling import infer_image

    run = HEAD.recipe("tiny")
    run.model = cfg
    export_generator(HEAD, run, g.eval(), tmp_path / "g.onnx")
    model = load_model(tmp_path / "g.onnx")
    image = np.random.default_rng(0).random((3, 96, 128)).astype(np.float32)
    whole, tiled = infer_image(model, image, tile=0), infer_image(model, image, tile=64, overlap=32)
    assert np.abs(whole - image).mean() > 1e-3                     # the blocks change the image
    assert psnr(tiled.transpose(1, 2, 0), whole.transpose(1, 2, 0)) > 45


def test_refine_blocks_start_as_identity_export_and_tile_without_seams(tmp_path):
    """scale_blocks adds identity-initialised blocks at 1/4 and 1/2 res, full_blocks at full res: the same
    function at init (so a model without them can start it), trainable, exported to ONNX, tiled like the whole image."""
    cfg = DeblurModelConfig(width=8, blocks=1, levels=3, upsample="transpose", scale_blocks=1, full_blocks=1)
    g = build_generator(cfg)
    assert {n.split(".")[0] for n, _ in g.named_parameters()} >= {"refine1", "refine2", "refine4"}
    x = torch.rand(1, 3, 64, 72)
    torch.testing.assert_close(g(x), x)
    torch.manual_seed(0)
    for name, param in g.named_parameters():      # as if trained: every block and the head act
        if name == "head.weight" or name.endswith("body.4.weight"):
            torch.nn.init.normal_(param, std=0.2)
    _assert_exports_and_tiles_like_the_whole_image(g, cfg, tmp_path)


def test_init_from_an_exported_onnx_keeps_new_blocks_and_refuses_foreign_tensors(tmp_path):
    from gan_app.export import export_generator
    from gan_app.train.state import load_start_weights

    small = DeblurModelConfig(width=8, blocks=1, levels=3, upsample="transpose")
    source = build_generator(small)
    torch.nn.init.normal_(source.head.weight, std=0.1)
    run = HEAD.recipe("tiny")
    run.model = small
    export_generator(HEAD, run, source.eval(), tmp_path / "s.onnx")
    grown = build_generator(DeblurModelConfig(width=8, blocks=3, levels=3, upsample="transpose", scale_blocks=1,
                                              full_blocks=2))
    load_start_weights(tmp_path / "s.onnx", grown, None)
    x = torch.rand(1, 3, 32, 40)
    torch.testing.assert_close(grown(x), source(x))                 # same function: new blocks are identities
    torch.nn.init.normal_(grown.refine1[1].body[-1].weight, std=0.1)
    assert float((grown(x) - source(x)).abs().max()) > 1e-3        # and the full-resolution block is in the path
    with pytest.raises(UserError, match="do not fit"):
        load_start_weights(tmp_path / "s.onnx", build_generator(DeblurModelConfig(width=16, blocks=1, levels=3,
                                                                                  upsample="transpose")), None)
    (tmp_path / "bad.onnx").write_bytes(b"junk")
    with pytest.raises(UserError, match="not a readable ONNX model"):
        load_start_weights(tmp_path / "bad.onnx", grown, None)


def test_a_resize_conv_model_starts_from_a_transposed_conv_export_and_tiles_without_seams(tmp_path):
    """GAN stages swap the transposed-conv upsamplers for resize-convs: every exported tensor is used
    (none missing, none foreign), the rest of the network is unchanged, and the model exports and tiles."""
    from gan_app.export import export_generator
    from gan_app.train.state import load_start_weights

    source_cfg = DeblurModelConfig(width=8, blocks=1, levels=3, upsample="transpose", scale_blocks=1)
    source = build_generator(source_cfg)
    torch.manual_seed(0)
    for param in source.parameters():
        torch.nn.init.normal_(param, std=0.1)
    run = HEAD.recipe("tiny")
    run.model = source_cfg
    export_generator(HEAD, run, source.eval(), tmp_path / "s.onnx")
    cfg = dataclasses.replace(source_cfg, upsample="resize")
    resized = build_generator(cfg)
    load_start_weights(tmp_path / "s.onnx", resized, None)
    same = [n for n, _ in source.named_parameters() if not n.startswith("up")]
    assert all(torch.equal(dict(resized.named_parameters())[n], dict(source.named_parameters())[n]) for n in same)
    x = torch.full((1, 3, 32, 40), 0.5)
    assert float((resized(x) - x).abs().max()) > 1e-3             # the loaded weights act
    _assert_exports_and_tiles_like_the_whole_image(resized, cfg, tmp_path)


def test_shake_recipe_reproduces_the_opt_in_model_grown_from_camera_and_the_default():
    """README's chain for deblur-v1-camera: pretrain -> camera -> shake, each adding only identity blocks."""
    card = json.loads((weights_root() / "deblur" / "deblur-v1-camera.json").read_text())
    shake, camera = HEAD.recipe("shake"), HEAD.recipe("camera")
    model, loss = split_model(card["model_config"], DeblurModelConfig, DeblurLossConfig)
    loss = card.get("loss_config", loss)          # cards written since the loss section have it apart
    assert shake.model == DeblurModelConfig(**model) and shake.loss == DeblurLossConfig(**loss)
    assert shake.data.crop == card["training"]["crop"] and shake.train.steps == card["training"]["steps"]
    assert dataclasses.replace(camera.model, scale_blocks=shake.model.scale_blocks) == shake.model
    grown = dataclasses.replace(HEAD.recipe("pretrain").model, scale_blocks=camera.model.scale_blocks)
    assert grown == camera.model          # only identity-initialised blocks are new (and a loss term:)
    assert camera.loss == dataclasses.replace(HEAD.recipe("pretrain").loss, fft_weight=camera.loss.fft_weight)


def test_mix_recipe_continues_the_camera_model_with_half_srgb_blur():
    """`mix` starts from deblur-v1-camera (`train.init_from`), so it keeps shake's architecture and loss
    exactly; only the data changes: half realistic camera shake, half sRGB shake or linear motion."""
    shake, mix = HEAD.recipe("shake"), HEAD.recipe("mix")
    assert mix.model == shake.model and mix.loss == shake.loss
    assert mix.data.realistic == 0.5 and mix.data.blur == "mix" and mix.data.max_length > shake.data.max_length
    assert mix.data.max_length <= mix.data.kernel_size
    assert mix.data.crop == shake.data.crop and mix.data.wallpapers


def test_srgb_recipe_gives_the_default_line_the_camera_layout_without_the_camera():
    """`srgb` starts from deblur-v1 (`pretrain`) and grows it to shake's layout: only identity blocks are new."""
    srgb, shake, pretrain = HEAD.recipe("srgb"), HEAD.recipe("shake"), HEAD.recipe("pretrain")
    assert srgb.model == shake.model and srgb.loss == shake.loss
    assert dataclasses.replace(srgb.model, scale_blocks=pretrain.model.scale_blocks) == pretrain.model
    assert srgb.data.realistic == 0.0 and srgb.data.max_length == pretrain.data.max_length
    assert srgb.data.crop == shake.data.crop > pretrain.data.crop


def test_every_identity_initialised_block_starts_as_the_identity():
    """InvertedResidual blocks (body and refine) are the identity at init, not only the zero head."""
    import torch

    from gan_app.apps.deblur.model import FastDeblurGenerator, InvertedResidual

    x = torch.rand(2, 16, 12, 12)
    torch.testing.assert_close(InvertedResidual(16, 2)(x), x, rtol=0, atol=0)
    model = FastDeblurGenerator(width=16, blocks=2, levels=3, upsample="transpose", scale_blocks=2).eval()
    blocks = [m for m in model.modules() if isinstance(m, InvertedResidual)]
    assert len(blocks) == 2 + 2 * 2
    for block in blocks:
        channels = block.body[0].in_channels
        y = torch.rand(1, channels, 8, 8)
        torch.testing.assert_close(block(y), y, rtol=0, atol=0)


def test_naf_generator_starts_as_identity_has_blocks_at_every_scale_and_tiles_without_seams(tmp_path):
    """The NAFNet-class U-Net: identity at init (every gated block too), gated blocks at full resolution and
    at every level, the body at 1/2**levels, exported to ONNX and tiled like the whole image."""
    from gan_app.apps.deblur.model import GatedBlock, NAFDeblurGenerator

    cfg = DeblurModelConfig(generator="naf", width=4, blocks=2, scale_blocks=1, levels=3)
    g = build_generator(cfg)
    assert isinstance(g, NAFDeblurGenerator) and size_multiple(cfg) == 8
    x = torch.rand(2, 3, 40, 48)
    torch.testing.assert_close(g(x), x, rtol=0, atol=0)
    y = torch.rand(1, 6, 8, 8)
    torch.testing.assert_close(GatedBlock(6)(y), y, rtol=0, atol=0)
    seen = []
    for m in g.modules():
        if isinstance(m, GatedBlock):
            m.register_forward_hook(lambda mod, i, o: seen.append(tuple(i[0].shape[1:])))
    g(torch.rand(1, 3, 32, 32))
    # encoder blocks at 1, 1/2, 1/4 res (4, 8, 16 channels), 2 body blocks at 1/8 (32), decoder back up
    assert seen == [(4, 32, 32), (8, 16, 16), (16, 8, 8), (32, 4, 4), (32, 4, 4), (16, 8, 8), (8, 16, 16), (4, 32, 32)]
    torch.manual_seed(0)
    for name, param in g.named_parameters():       # as if trained: every branch and the head act
        if param.dim() > 1 and (name.startswith("head") or name.endswith("3.weight") or name.endswith("2.weight")):
            torch.nn.init.normal_(param, std=0.2)
    _assert_exports_and_tiles_like_the_whole_image(g, cfg, tmp_path)
    with pytest.raises(ValueError, match="naf generator levels must be 2, 3 or 4"):
        build_generator(DeblurModelConfig(generator="naf", levels=1))


def test_naf_recipe_trains_bf16_channels_last_and_resumes_exactly(tmp_path):
    """The recipe's generator through the engine on CPU with bf16 autocast and NHWC: finite, and a resumed run
    gives the same weights as an uninterrupted one."""
    from gan_app.checkpoint import load_generator
    from gan_app.train.loop import fit

    run = HEAD.recipe("tiny")
    run.model = dataclasses.replace(HEAD.recipe("naf").model, width=4, blocks=1, levels=2)
    run.data = dataclasses.replace(run.data, crop=32)
    run.train = dataclasses.replace(run.train, steps=4, adv_weight=0.0, amp="bf16", channels_last=True,
                                    ckpt_every=2, sample_every=100, seed=3)
    ckpts = tmp_path / "run" / "checkpoints"
    fit(HEAD, run, tmp_path / "run")
    _, _, whole = load_generator(ckpts / "step_000004.safetensors")
    (ckpts / "step_000004.safetensors").unlink()               # as if stopped after step 2
    fit(HEAD, run, tmp_path / "run", resume=True)
    _, _, resumed = load_generator(ckpts / "step_000004.safetensors")
    for (name, pa), pb in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.isfinite(pa).all(), name
        torch.testing.assert_close(pa, pb, rtol=0, atol=0, msg=name)


def test_calibration_pairs_use_training_photos_and_their_own_cameras():
    """The calibration split is for choosing between proxy runs: training photos, never the held-out ones."""
    from gan_app.data.photos import HELD_OUT

    cal = evaluation_pairs(DeblurDataConfig(), max_side=64, split="realistic", photos="calibration")
    if not cal:
        pytest.skip("offline photos unavailable")
    assert not {n for n, *_ in cal} & HELD_OUT
    assert len(cal) <= 12
    assert all(np.array_equal(x[1], y[1]) for x, y in
               zip(cal, evaluation_pairs(DeblurDataConfig(), max_side=64, split="realistic", photos="calibration")))
    with pytest.raises(UserError, match="use held_out or calibration"):
        evaluation_pairs(DeblurDataConfig(), photos="test")


def test_conditional_unet_critic_judges_blurred_image_pairs_and_trains(tmp_path):
    """`critic_sees_blurred`: the critic's input is (blurred, image) on 6 channels, per-pixel logits come back,
    and a relativistic stage with it runs through the engine (bf16, NHWC) to a loadable checkpoint."""
    from gan_app.apps.deblur.model import build_critic
    from gan_app.checkpoint import load_generator
    from gan_app.train.loop import fit

    run = HEAD.recipe("tiny")
    run.model = dataclasses.replace(run.model, critic="unet", critic_sees_blurred=True, d_width=4, d_layers=2)
    critic = build_critic(run.model)
    seen = []
    critic.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    batch = {"source": torch.rand(2, 3, 16, 16), "target": torch.rand(2, 3, 16, 16)}
    fake = torch.rand(2, 3, 16, 16)
    assert HEAD.objective(run).critic(critic, batch)(fake).logits.shape == (2, 1, 16, 16)
    torch.testing.assert_close(seen[0], torch.cat([batch["source"], fake], 1), rtol=0, atol=0)
    with pytest.raises(ValueError, match="use patchgan, double_scale or unet"):
        build_critic(dataclasses.replace(run.model, critic="vgg"))

    run.train = dataclasses.replace(run.train, loss="relativistic", gp_weight=0.0, amp="bf16", channels_last=True)
    fit(HEAD, run, tmp_path / "run")
    _, _, g = load_generator(tmp_path / "run" / "checkpoints" / "step_000002.safetensors")
    assert all(torch.isfinite(p).all() for p in g.parameters())
