"""The super-resolution head object. Torch-free at import time: `gan-app upscale` runs on ONNX Runtime."""

from __future__ import annotations

from typing import Any

from gan_app.config import RunConfig
from gan_app.head import GraphInput, GraphSpec, Head


class SuperResHead(Head):
    name = "superres"
    verb = "upscale"
    output_suffix = "_x{scale}"
    summary = "Upscale photos x2/x4 (SRGAN/ESRGAN-style super-resolution)."
    default_model = "superres-x4-psnr"   # `gan-app run superres`; `gan-app upscale --model gan|--scale 2` picks the others
    recipes_ref = ".recipes"
    model_config_ref = ".model:SRModelConfig"
    data_config_ref = ".data:SRDataConfig"
    loss_config_ref = ".model:SRLossConfig"

    def builtin_data(self) -> tuple[str, ...]:
        return ("photos",)

    def graph(self, model_cfg: Any) -> GraphSpec:
        return GraphSpec(inputs=(GraphInput("image", "image", ("B", 3, "H", "W")),), value_range=(0.0, 1.0),
                         out_channels=3, scale=model_cfg.scale, size_multiple=1)

    def build(self, model_cfg: Any) -> tuple[Any, Any]:
        from .model import build_discriminator, build_generator
        return build_generator(model_cfg), build_discriminator(model_cfg)

    def dataset(self, run: RunConfig, split: str) -> Any:
        from .data import build_dataset
        return build_dataset(run.data, run.model.scale)

    def objective(self, run: RunConfig) -> Any:
        from .objective import SRObjective
        return SRObjective(run.loss)

    def evaluate(self, generator: Any, run: RunConfig, data: str | None) -> dict:
        from .evaluate import evaluate_generator
        return evaluate_generator(generator, run, data)

    def card_info(self, run: RunConfig) -> dict:
        m, d, t, loss = run.model, run.data, run.train, run.loss
        losses = [f"l1 x{loss.l1_weight:g}"] if loss.l1_weight else []
        if loss.psnr_weight:
            losses.append(f"psnr (minus per-image PSNR) x{loss.psnr_weight:g}")
        if loss.perceptual_weight:
            losses.append(f"perceptual VGG19 conv5_4 ({loss.vgg_weights}) x{loss.perceptual_weight:g}")
        if t.adv_weight:
            losses.append(f"{t.loss} adversarial x{t.adv_weight:g} (spectral-norm PatchGAN)")
        data = "offline photo set (shared/DATA.md), held-out photos excluded" if d.path == "photos" else d.path
        if d.path == "photos" and d.wallpapers:
            from gan_app.data.photos import wallpaper_description
            data += f" + {wallpaper_description()}"
        stage = "GAN fine-tuning" if t.adv_weight else "PSNR-oriented (content only)"
        mix = f" ({d.mixed_bicubic_share():.0%} of items bicubic)" if d.mixed_bicubic_share() else ""
        return {"data": f"{data}; {d.degradation} degradation{mix} x{m.scale}, HR crops {d.crop}px, flips/rotations",
                "losses": losses, "stage": stage, "init_from": t.init_from or None,
                "generator": f"{m.generator} (width {m.width}, blocks {m.blocks})", "scale": m.scale}

    def inference_command(self):
        from .command import upscale_command
        return upscale_command


HEAD = SuperResHead()
