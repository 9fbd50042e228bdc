"""Class-conditional recipes: `default` (the shipped CPU model), `acgan`, `cgan`, `paper`, `tiny`."""

from __future__ import annotations

from gan_app.config import RunConfig, TrainConfig

from .data import ConditionalDataConfig
from .model import ConditionalLossConfig, ConditionalModelConfig

RECIPES = {   # name -> one line for `gan-app heads`
    "default": "CBN generator, projection critic with spectral norm, hinge, EMA: the shipped conditional-v1",
    "acgan": "AC-GAN (Odena et al.): auxiliary-classifier critic, non-saturating loss",
    "cgan": "cGAN (Mirza & Osindero): label embedding concatenated to z and to D's input",
    "paper": "SNGAN-projection-style schedule on a GPU: wider nets, 5 D steps",
    "tiny": "seconds on CPU: the contract test, on the generated class-shapes set",
}


def recipe(name: str) -> RunConfig:
    """A complete run config by name."""
    if name == "default":  # CBN generator, projection D with spectral norm, hinge, EMA; ~1.5 h on one CPU thread.
        # The shipped conditional-v1: Fréchet 1.90 at 12,000 steps (constant lr), 1.56 after the decay to 24,000.
        return RunConfig("conditional", ConditionalModelConfig(d_width=32), ConditionalDataConfig(),
                         TrainConfig(steps=24_000, batch_size=64, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
                                     lr_schedule="linear", decay_start=12_000,
                                     loss="hinge", ema_decay=0.999, ema_start=500, ema_bn_batches=64, amp="off",
                                     log_every=50, sample_every=500, ckpt_every=1000, keep_last=4),
                         ConditionalLossConfig())
    if name == "acgan":    # AC-GAN (Odena et al.): auxiliary classifier D, non-saturating loss
        run = recipe("default")
        run.model.discriminator, run.train.loss = "acgan", "nonsaturating"
        return run
    if name == "cgan":     # cGAN (Mirza & Osindero): label embedding concatenated to z and to D's input
        run = recipe("default")
        run.model.g_conditioning, run.model.discriminator, run.train.loss = "concat", "concat", "nonsaturating"
        return run
    if name == "paper":    # SNGAN-projection-style schedule on a GPU: wider nets, 5 D steps, (0, 0.9)
        return RunConfig("conditional", ConditionalModelConfig(g_width=128, d_width=128), ConditionalDataConfig(),
                         TrainConfig(steps=50_000, batch_size=64, n_critic=5, lr_g=2e-4, lr_d=2e-4, betas=(0.0, 0.9),
                                     loss="hinge", ema_decay=0.9999, ema_start=1000, lr_schedule="linear",
                                     ckpt_every=5000),
                         ConditionalLossConfig())
    if name == "tiny":     # seconds on CPU: the contract test, on the generated shapes set
        return RunConfig("conditional",
                         ConditionalModelConfig(z_dim=8, g_width=8, d_width=8, embed_dim=4, resolution=8,
                                                num_classes=4),
                         ConditionalDataConfig(path="class-shapes", fit="resize", limit=64),
                         TrainConfig(steps=2, batch_size=4, loss="hinge", log_every=1, sample_every=2,
                                     ckpt_every=2, ema_decay=0.9, amp="off"),
                         ConditionalLossConfig())
    raise KeyError(name)


def describe(run: RunConfig) -> dict:
    """Model-card facts of a run: the data and the losses really used."""
    m, t = run.model, run.train
    losses = [f"{t.loss} adversarial x{t.adv_weight:g}"]
    if m.discriminator == "acgan":
        losses.append(f"AC-GAN class cross-entropy x{run.loss.ac_weight:g} (G and D)")
    if t.gp_weight:
        losses.append(f"gradient penalty x{t.gp_weight:g}")
    if t.r1_weight:
        losses.append(f"R1 x{t.r1_weight:g}")
    if t.label_smoothing != 1.0:
        losses.append(f"one-sided label smoothing (real target {t.label_smoothing:g})")
    if t.feature_matching_weight:
        losses.append(f"feature matching on D's last feature map x{t.feature_matching_weight:g} (G)")
    if t.historical_averaging_weight:
        losses.append(f"historical averaging x{t.historical_averaging_weight:g} (G and D)")
    g = "conditional batch norm" if m.g_conditioning == "cbn" else f"label embedding ({m.embed_dim}-d) concatenated to z"
    if m.virtual_bn:
        g += f", virtual batch norm (reference batch of {m.virtual_bn})"
    d = {"projection": "projection discriminator", "concat": "label-embedding input channels (cGAN)",
         "acgan": "auxiliary classifier (AC-GAN)"}[m.discriminator]
    return {"data": f"{run.data.path} training split, {m.num_classes} classes, {m.channels}x{m.resolution}px "
                    f"({run.data.fit} to {m.resolution})" + (f", first {run.data.limit} images" if run.data.limit else ""),
            "losses": losses,
            "generator": f"DCGAN, width {m.g_width}, z {m.z_dim}-d, {g}",
            "discriminator": f"DCGAN, width {m.d_width}, {d}" + (", spectral norm" if m.spectral else "")
                             + (f", minibatch discrimination ({m.minibatch_kernels} kernels)" if m.minibatch_kernels else ""),
            "ema_decay": t.ema_decay}
