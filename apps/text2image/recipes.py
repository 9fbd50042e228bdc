"""Text-to-image recipes: `default` (alias `projection`; the shipped model: text encoder pretrained on
image-caption matching then frozen; DF-GAN/projection style: text-affine batch norms in G, projection D with
spectral norm, hinge, R1, plus Reed et al.'s matching-aware term and GAN-INT), `gan-int-cls` (Reed et al.'s
plain recipe), `acgan` (+ AC-GAN attribute heads), `trainable` (own-vocabulary encoder), `paper` (GPU, 64 px),
`tiny` (tests)."""

from __future__ import annotations

from gan_app.config import RunConfig, TrainConfig

from .data import Text2ImageDataConfig
from .model import Text2ImageLossConfig, Text2ImageModelConfig
from .shapes import ATTRIBUTE_CLASSES

RECIPES = {   # name -> one line for `gan-app heads`
    "default": "projection critic with the text embedding for labels, pretrained frozen text encoder: the shipped text2image-v1",
    "projection": "the same as default",
    "gan-int-cls": "Reed et al.'s GAN-INT-CLS: wordllama encoder, batch-norm critic, BCE with mismatched text",
    "acgan": "default + AC-GAN attribute heads in D (captioned-shapes only)",
    "trainable": "a fully trainable text encoder with its own vocabulary (no wordllama needed)",
    "paper": "Reed et al.'s scale on a GPU: 64 px, wider nets, longer",
    "tiny": "seconds on CPU: the contract test",
}


def recipe(name: str) -> RunConfig:
    """A complete run config by name."""
    if name == "gan-int-cls":  # Reed et al.'s GAN-INT-CLS on `shapes`, wordllama encoder, Reed's batch-norm D + BCE
        # On this CPU a spectral-norm hinge D won with noise-like fakes after 1,750 steps; this plain
        # batch-norm DCGAN made shapes within ~500, but scored far below `default` (stop-2 card: seen
        # shape/colour/size/position 0.26/0.24/0.79/0.36 after 4,750 steps); with the pretrained text
        # encoder its D won by step 1,000 (noise).
        return RunConfig("text2image",
                         Text2ImageModelConfig(d_norm="batch", spectral=False),
                         Text2ImageDataConfig(),
                         TrainConfig(steps=6000, batch_size=32, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
                                     loss="nonsaturating", ema_decay=0.995, ema_start=200, amp="off", log_every=50,
                                     sample_every=250, ckpt_every=250, keep_last=4),
                         Text2ImageLossConfig())
    if name in ("default", "projection"):  # the class-conditional head's working CPU recipe family, with text for labels:
        # affine text fusion in every G norm, projection D with spectral norm, hinge loss, EMA, and R1 on
        # (real, right text) in place of DF-GAN's MA-GP: without it D won within ~700 steps here and G
        # made noise (D hinge loss ~0.2); with R1 x1 G drew text-placed blobs by step 1,000
        # EMA 0.995 (not the conditional head's 0.999): at 0.999 the EMA G lagged far behind the raw one.
        # The text encoder is pretrained on image-caption matching and frozen (Reed et al.): trained only
        # through the GAN it left shape at chance after 7,500 steps; pretrained, shapes came at ~3,000-4,500.
        # 14,000 steps, lr decaying linearly from 6,000: ~60 min on one CPU thread.
        return RunConfig("text2image",
                         Text2ImageModelConfig(fusion="affine", critic="projection", d_norm="none", spectral=True,
                                               text_pretrain_steps=1000),
                         Text2ImageDataConfig(),
                         TrainConfig(steps=14_000, batch_size=32, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
                                     lr_schedule="linear", decay_start=6000,
                                     loss="hinge", r1_weight=1.0, ema_decay=0.995, ema_start=500, amp="off",
                                     log_every=50, sample_every=250, ckpt_every=250, keep_last=4),
                         Text2ImageLossConfig())
    if name == "acgan":  # + AC-GAN attribute heads in D (shapes only). Early in training here G learned to fool
        # the heads with noise (attribute loss above chance after 750 steps), so it is not the default.
        run = recipe("gan-int-cls")
        run.model.attribute_sizes, run.loss.ac_weight = ATTRIBUTE_CLASSES, 1.0
        return run
    if name == "trainable":  # the fully trainable text encoder (own vocabulary, no wordllama needed)
        run = recipe("gan-int-cls")
        run.model.text_encoder = "trainable"
        return run
    if name == "paper":  # Reed et al.'s scale on a GPU: 64 px, wider nets, longer
        run = recipe("gan-int-cls")
        run.model.resolution, run.model.g_width, run.model.d_width, run.model.z_dim = 64, 64, 64, 100
        run.train.steps, run.train.ckpt_every, run.train.ema_decay = 60_000, 5000, 0.9999
        return run
    if name == "tiny":  # seconds on CPU: the contract test
        return RunConfig("text2image",
                         Text2ImageModelConfig(text_encoder="trainable", vocab_size=64, max_tokens=12, word_dim=8,
                                               text_hidden=8, text_dim=8, proj_dim=4, resolution=8, z_dim=8,
                                               g_width=4, d_width=4, attribute_sizes=ATTRIBUTE_CLASSES),
                         Text2ImageDataConfig(limit=32),
                         TrainConfig(steps=2, batch_size=4, loss="hinge", log_every=1, sample_every=2, ckpt_every=2,
                                     ema_decay=0.9, amp="off"),
                         Text2ImageLossConfig(ac_weight=1.0))
    raise KeyError(name)


def describe(run: RunConfig) -> dict:
    """Model-card facts of a run: the data, the text encoder and the losses really used."""
    m, t, loss = run.model, run.train, run.loss
    losses = [f"{t.loss} adversarial x{t.adv_weight:g} (real image + right text vs fake + right text)",
              f"matching-aware negative: real image + mismatched text (GAN-CLS) x{loss.mismatch_weight:g}, "
              + ("another item's caption" if loss.mismatch == "random" else
                 f"the most similar other caption of the batch below cosine {loss.mismatch_max_similarity:g} (hard negative)"),
              f"GAN-INT: generator loss on fakes from captions interpolated halfway (beta 0.5) x{loss.interp_weight:g}"]
    if t.r1_weight:
        losses.append(f"R1 on real images with their right text x{t.r1_weight:g} (gamma)")
    if m.match_weight:
        losses.append(f"image-text matching (in-batch contrastive) under the frozen pretraining image encoder "
                      f"x{m.match_weight:g} (G; AttnGAN's DAMSM idea)")
    if loss.ac_weight:
        losses.append(f"AC-GAN-style attribute cross-entropy in D (real) and G (fake) x{loss.ac_weight:g} "
                      "(an addition to Reed et al.; uses the shapes set's attribute labels)")
    encoder = ("wordllama l2_supercat_256 token embeddings (frozen) + trainable 1-layer GRU"
               if m.text_encoder == "wordllama" else "trainable word embeddings (own vocabulary) + 1-layer GRU")
    return {"data": f"{run.data.path} training split, {m.resolution}px RGB"
                    + (f", first {run.data.limit} items" if run.data.limit else ""),
            "losses": losses,
            "text_encoder": f"{encoder}, masked mean -> {m.text_dim}-d; "
                            + (f"pretrained {m.text_pretrain_steps} steps on image-caption matching (CLIP-style "
                               "contrastive loss, training split only), then frozen and shared by G and D; "
                               if m.text_pretrain_steps else "separate encoders in G and D, trained by the GAN; ")
                            + f"{len(m.vocab)} known words, {m.max_tokens} tokens max",
            "generator": f"DCGAN, width {m.g_width}, z {m.z_dim}-d + text FC/LeakyReLU {m.proj_dim}-d concatenated"
                         + (", every hidden batch norm's gamma/beta linear in that text vector (affine fusion)"
                            if m.fusion == "affine" else ""),
            "discriminator": f"DCGAN ({m.d_norm} norm), width {m.d_width}, "
                             + ("projection head: psi(phi) + <phi, W text> on the flattened 4x4 map"
                                if m.critic == "projection" else f"text {m.proj_dim}-d replicated over the 4x4 map")
                             + (", spectral norm" if m.spectral else "")
                             + (", attribute heads present but unused (ac_weight 0)" if m.attribute_sizes and not loss.ac_weight
                                else ""),
            "hardware": f"CPU, {t.cpu_threads or 'default'} torch thread(s), batch {t.batch_size}",
            "ema_decay": t.ema_decay}
