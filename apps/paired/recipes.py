"""Paired recipes: `default` (CPU-sized pix2pix), `paper` (pix2pix as published), `tiny` (tests)."""

from __future__ import annotations

from gan_app.config import RunConfig, TrainConfig

from .config import PairedDataConfig, PairedLossConfig, PairedModelConfig

RECIPES = {   # name -> one line for `gan-app heads`
    "default": "pix2pix on a CPU: U-Net width 32, depth 6, 128 px crops, PatchGAN, L1 x100, EMA",
    "paper": "Isola et al. 2017: unet_256, batch 1, 200 epochs (100 constant + 100 linear decay)",
    "tiny": "seconds on CPU: the contract test (denoising pairs from the offline photos)",
}


def recipe(name: str) -> RunConfig:
    """A complete run config by name. Every recipe trains with L1 x100 + non-saturating GAN (pix2pix)."""
    if name == "default":   # CPU-sized: width 32, depth 6 (64 px multiple), 128 px crops, EMA
        return RunConfig("paired", PairedModelConfig(width=32, depth=6, d_width=32),
                         PairedDataConfig(crop=128),
                         TrainConfig(steps=20_000, batch_size=8, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
                                     loss="nonsaturating", ema_decay=0.999, log_every=50, sample_every=500,
                                     ckpt_every=500),
                         PairedLossConfig())
    if name == "paper":     # Isola et al. 2017: unet_256, batch 1, 200 epochs (100 constant + 100 linear decay)
        return RunConfig("paired", PairedModelConfig(), PairedDataConfig(crop=256),
                         TrainConfig(steps=200 * 400, batch_size=1, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
                                     loss="nonsaturating", lr_schedule="linear", decay_start=100 * 400,
                                     ema_decay=0.0, ckpt_every=5000),
                         PairedLossConfig())
    if name == "tiny":      # seconds on CPU: the contract test (denoising pairs from the offline photos)
        return RunConfig("paired", PairedModelConfig(width=4, depth=3, d_width=4, d_layers=2),
                         PairedDataConfig(path="photos:denoise", crop=32, epoch_size=8),
                         TrainConfig(steps=2, batch_size=2, log_every=1, sample_every=2, ckpt_every=2,
                                     ema_decay=0.9, amp="off"),
                         PairedLossConfig())
    raise KeyError(name)


def describe(run: RunConfig) -> dict:
    """Model-card facts: the data and the losses really used."""
    m, d, t, loss = run.model, run.data, run.train, run.loss
    losses = [f"{loss.content_loss} x{loss.content_weight:g}" + (f" ({loss.vgg_weights} VGG19)" if loss.content_loss == "perceptual" else "")]
    if t.adv_weight:
        losses.append(f"{t.loss} adversarial x{t.adv_weight:g} (conditional PatchGAN, {m.d_layers} layers)")
    if d.path.startswith("photos:"):
        task = d.path.split(":", 1)[1]
        how = f"Gaussian noise sigma {d.noise:g}" if task == "denoise" else "greyscale (ITU-R 601 luma)"
        data = f"offline training photos (held-out photos excluded), A = {how}, B = original; {d.crop}px crops"
    else:
        data = f"paired folder {d.path}; {d.crop}px crops" + (", random flips" if d.flip else "")
    return {"data": data, "losses": losses, "name": m.name,
            "generator": f"U-Net depth {m.depth}, width {m.width}, {m.norm} norm, {m.in_channels}->{m.out_channels} channels",
            "discriminator": f"conditional PatchGAN width {m.d_width}, {m.d_layers} layers, instance norm"}
