"""Deblur recipes: `default` (CPU-friendly fast model), `pretrain`, `camera`, `shake`, `mix`, `srgb` and `naf` (content only), `v2`, `paper`, `tiny`."""

from __future__ import annotations

from gan_app.config import RunConfig, TrainConfig

from .data import DeblurDataConfig
from .model import DeblurLossConfig, DeblurModelConfig

RECIPES = {   # name -> one line for `gan-app heads`
    "default": "fast generator + WGAN-GP PatchGAN critic (DeblurGAN v1 objective), Charbonnier content; start from pretrain",
    "pretrain": "content loss only on synthetic sRGB shake, 96 px crops: the shipped deblur-v1 (~110 min on 2 cores)",
    "camera": "content-only stage on realistic camera shake (linear light, roll, noise, JPEG), 256 px crops, from pretrain",
    "shake": "content-only stage from camera: 2-45 px paths, a second refine block per scale: the shipped deblur-v1-camera",
    "mix": "content-only stage from shake: half realistic camera shake, half sRGB shake/linear motion (one default for both)",
    "srgb": "content-only stage 2 from pretrain on sRGB shake/linear motion only, with camera's 256 px crops and wallpapers "
            "(+ train.teacher=deblur-v1: the shipped deblur-v2)",
    "naf": "NAFNet-class generator (gated blocks at every scale, full resolution included) from scratch on shake's data",
    "camera-gan": "short RaSGAN stage after shake (Real-ESRGAN's order), resize-conv upsampling, a light PatchGAN critic",
    "v2": "DeblurGAN-v2 objective: relativistic LSGAN with a global + local (double-scale) critic",
    "paper": "DeblurGAN v1 on GoPro, GPU: resnet9, perceptual x100, 5 critic steps, 300 epochs",
    "tiny": "seconds on CPU: the contract test",
}


def recipe(name: str) -> RunConfig:
    """A complete run config by name."""
    if name == "default":   # fast generator, WGAN-GP PatchGAN critic (v1 objective), Charbonnier content
        # Body at 1/8 resolution: no slower than 1/4 res x 8 blocks, twice the receptive field and 3x the
        # weights; after 13,000 pretraining steps +0.90 dB vs +0.33 dB on the held-out benchmark. Transposed-conv
        # upsampling cut its ONNX Runtime time to 0.75x, which paid for 12 body blocks instead of 6.
        # (The dataclass keeps levels=2, blocks=8, shuffle so checkpoints written before those options load.)
        return RunConfig("deblur", DeblurModelConfig(levels=3, blocks=12, upsample="transpose"), DeblurDataConfig(),
                         TrainConfig(steps=20_000, batch_size=8, lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.999),
                                     loss="wgan", gp_weight=10.0, n_critic=1, lr_schedule="linear",
                                     decay_start=10_000, ema_decay=0.999, sample_every=1000, ckpt_every=500),
                         DeblurLossConfig())
    if name == "pretrain":  # content loss only (PSNR-oriented warm start, no critic); the shipped deblur-v1
        run = recipe("default")
        run.train.adv_weight, run.train.lr_g, run.train.ema_decay = 0.0, 1e-3, 0.995
        run.train.steps, run.train.decay_start, run.data.crop = 40_000, 20_000, 96   # ~110 min on 2 CPU cores
        return run
    if name == "camera":    # content-only stage 2 on realistic camera shake; start it from `pretrain` (train.init_from)
        run = recipe("pretrain")
        run.model.scale_blocks, run.loss.fft_weight = 1, 10.0       # a block at 1/4 and 1/2 res; FFT term 0.1x content
        run.data.wallpapers, run.data.realistic, run.data.crop = True, 0.6, 256   # crops large relative to 45 px paths
        run.train.batch_size, run.train.betas, run.train.lr_g = 4, (0.9, 0.99), 5e-4
        run.train.steps, run.train.decay_start, run.train.ema_decay = 10_000, 4_000, 0.999   # ~2 h on 2 CPU cores
        return run
    if name == "shake":     # content-only stage 3 from `camera`: one path range for mild and long shake alike
        run = recipe("camera")  # `camera` (10-45 px paths) over-corrected mild blur; 2-45 px here, 70% realistic
        run.model.scale_blocks = 2                                   # one more identity block at 1/4 and 1/2 res
        run.data.realistic, run.data.camera_min_length = 0.7, 2.0
        # Session 9 ran 8,000 steps (decay from 3,000) from `camera`; the shipped model is a second pass of this
        # recipe from that one: 10,000 steps, decay from 5,000, `--set train.amp=bf16` (77 min on 2 CPU cores).
        run.train.lr_g, run.train.steps, run.train.decay_start = 3e-4, 10_000, 5_000
        return run
    if name == "mix":       # content-only stage 4 from `shake` (deblur-v1-camera): one default model for both kinds of blur
        run = recipe("shake")   # `shake` (30% sRGB) lost 0.7 dB to deblur-v1 on sRGB shake and darkened bright objects
        run.data.realistic, run.data.blur, run.data.max_length = 0.5, "mix", 24.0   # sRGB half: 70% shake, 30% linear
        run.train.steps, run.train.decay_start = 9_000, 4_000
        return run
    if name == "srgb":      # stage 2 of the sRGB line (deblur-v1 is `pretrain`): camera's crops, data and loss, no camera
        run = recipe("shake")   # shake's layout (identity blocks added to deblur-v1), so both lines share one architecture
        run.data.realistic, run.data.blur = 0.0, "mix"               # the uniform split's blur (paths <= 20 px) + linear
        run.train.lr_g, run.train.steps, run.train.decay_start = 5e-4, 6_000, 2_500
        return run
    if name == "naf":       # NAFNet-class U-Net from scratch on `shake`'s data: blocks at full and half resolution too
        run = recipe("shake")   # width 8 at full res, body of 8 at 1/16: 0.23 s at 1280x720 on 2 threads, as `shake`
        run.model = DeblurModelConfig(generator="naf", width=8, blocks=8, scale_blocks=1, levels=4)   # shake's loss
        # Session 11's proxy: it trailed the fast U-Net by 0.19 dB (calibration realistic, step 2,000) and diverged
        # at step 2,122 with bf16 at this lr, without gradient clipping or warm-up (docs/benchmarks.md).
        run.train.lr_g, run.train.steps, run.train.decay_start = 1e-3, 20_000, 10_000
        return run
    if name == "camera-gan":  # short adversarial stage after `shake` (Real-ESRGAN's order): RaSGAN PatchGAN critic
        run = recipe("shake")   # start (train.init_from): a `shake` run with upsample=resize (session 12), or the
        # transposed-conv deblur-v1-camera.onnx itself, whose upsamplers load as their phase mean (-0.56 dB until retrained).
        # Session 8 ran it on transposed convs and the critic rewarded their 2-px checkerboard on flat areas as
        # "detail"; resize-convs cannot draw one (texture elsewhere remained, docs/benchmarks.md session 12).
        run.model.upsample, run.model.d_width = "resize", 32          # a light critic: 2-core CPU budget
        run.train.loss, run.train.adv_weight, run.train.gp_weight = "relativistic", 1.0, 0.0   # content:adv = 100:1 (DeblurGAN)
        run.train.lr_g = run.train.lr_d = 1e-4
        run.train.steps, run.train.decay_start, run.train.ckpt_every, run.train.ema_decay = 1_500, 750, 250, 0.99
        return run
    if name == "v2":        # DeblurGAN-v2 objective: relativistic LSGAN, global + local (double-scale) critic
        run = recipe("default")
        run.model.critic, run.train.loss, run.train.gp_weight = "double_scale", "relativistic_lsgan", 0.0
        run.loss.content_weight = 1.0
        run.train.adv_weight = 0.001
        return run
    if name == "paper":     # DeblurGAN v1 on GoPro, GPU: resnet9, perceptual x100, 5 critic steps, 300 epochs
        return RunConfig("deblur",
                         DeblurModelConfig(generator="resnet9", width=64, blocks=9),
                         DeblurDataConfig(path="GOPRO_Large/train", crop=256),
                         TrainConfig(steps=300 * 2103, batch_size=1, lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.999),
                                     loss="wgan", gp_weight=10.0, n_critic=5, lr_schedule="linear",
                                     decay_start=150 * 2103, ema_decay=0.0, ckpt_every=5000),
                         DeblurLossConfig(content_loss="perceptual"))
    if name == "tiny":      # seconds on CPU: the contract test
        return RunConfig("deblur", DeblurModelConfig(width=8, blocks=1, d_width=8, d_layers=2, upsample="transpose"),
                         DeblurDataConfig(crop=32, kernel_size=9, max_length=6.0, epoch_size=8),
                         TrainConfig(steps=2, batch_size=2, loss="wgan", gp_weight=10.0, log_every=1,
                                     sample_every=2, ckpt_every=2, ema_decay=0.9),
                         DeblurLossConfig())
    raise KeyError(name)
