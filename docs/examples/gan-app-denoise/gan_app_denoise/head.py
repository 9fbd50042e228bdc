"""The denoise head: what it is, how it trains, what its exported graph takes.

Imported by `gan-app --help` and by the torch-free inference path, so nothing here
imports torch at module level: torch code lives in model.py and is imported inside methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gan_app.config import RunConfig, TrainConfig
from gan_app.head import GraphInput, GraphSpec, Head


@dataclass
class DenoiseModelConfig:
    """Everything that rebuilds the networks; stored in checkpoints and ONNX metadata."""

    width: int = 32           # channels of the generator's hidden convolutions
    depth: int = 5            # 3x3 convolutions in the generator (receptive field 2 * depth + 1)
    d_width: int = 32         # PatchGAN base width
    l1_weight: float = 100.0  # weight of the L1 term against the adversarial term


@dataclass
class DenoiseDataConfig:
    """Where clean images come from and how they are made noisy."""

    path: str = "photos"      # a folder of clean images, or "photos" (gan-app's offline photo set)
    crop: int = 64            # training crop, px
    sigma: float = 0.1        # std of the Gaussian noise, on the [0, 1] scale
    epoch_size: int = 1024    # random crops per epoch


class DenoiseHead(Head):
    name = "denoise"          # `gan-app train denoise`, `gan-app run denoise photo.png`
    verb = None               # no verb of its own: the generic `gan-app run` serves it
    summary = "Remove Gaussian noise (example plugin head from docs/new-head.md)."
    recipes = ("default", "tiny")

    def model_config_cls(self) -> type:
        return DenoiseModelConfig

    def data_config_cls(self) -> type:
        return DenoiseDataConfig

    def recipe(self, name: str = "default") -> RunConfig:
        if name == "default":
            return RunConfig(self.name, DenoiseModelConfig(), DenoiseDataConfig(),
                             TrainConfig(steps=5000, batch_size=16, lr_g=2e-4, lr_d=2e-4, ema_decay=0.999))
        if name == "tiny":    # seconds on a CPU: what the tests train
            return RunConfig(self.name, DenoiseModelConfig(width=4, depth=2, d_width=4),
                             DenoiseDataConfig(crop=16, epoch_size=4),
                             TrainConfig(steps=2, batch_size=2, lr_g=1e-3, log_every=1, sample_every=2,
                                         ckpt_every=2, ema_decay=0.0, amp="off"))
        raise KeyError(name)

    def graph(self, model_cfg: Any) -> GraphSpec:
        # One RGB image in [0, 1] in, one out, same size; any size works (size_multiple 1).
        return GraphSpec(inputs=(GraphInput("image", "image", ("B", 3, "H", "W")),), value_range=(0.0, 1.0))

    def build(self, model_cfg: Any) -> tuple[Any, Any]:
        from .model import build
        return build(model_cfg)

    def dataset(self, run: RunConfig, split: str) -> Any:
        from .model import NoisyCrops
        return NoisyCrops(run.data)

    def objective(self, run: RunConfig) -> Any:
        from gan_app.losses.content import content_loss
        from gan_app.train.objective import ImageToImageObjective
        return ImageToImageObjective("l1", content_loss("l1"), run.model.l1_weight)

    def evaluate(self, generator: Any, run: RunConfig, data: str | None) -> dict:
        from .model import evaluate
        return evaluate(generator, run, data)

    def card_info(self, run: RunConfig) -> dict:
        return {"data": f"{run.data.path}, Gaussian noise sigma {run.data.sigma:g}, {run.data.crop}px crops",
                "losses": [f"l1 x{run.model.l1_weight:g}", f"{run.train.loss} adversarial x{run.train.adv_weight:g}"]}


HEAD = DenoiseHead()
