"""The denoise head: what it is, how it trains, what its exported graph takes.

Imported by `gan-app --help` and by the torch-free inference path, so nothing here
imports torch at module level: torch code lives in model.py and is imported inside methods.
"""

from __future__ import annotations

from typing import Any

from gan_app.config import RunConfig
from gan_app.head import GraphInput, GraphSpec, Head


class DenoiseHead(Head):
    name = "denoise"          # `gan-app train denoise`, `gan-app run denoise photo.png`
    verb = None               # no verb of its own: the generic `gan-app run` serves it
    summary = "Remove Gaussian noise (example plugin head from docs/new-head.md)."
    recipes_ref = ".recipes"                          # RECIPES and recipe(name), imported on first use
    model_config_ref = ".recipes:DenoiseModelConfig"
    data_config_ref = ".recipes:DenoiseDataConfig"
    loss_config_ref = ".recipes:DenoiseLossConfig"

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
        return ImageToImageObjective("l1", content_loss("l1"), run.loss.l1_weight)

    def evaluate(self, generator: Any, run: RunConfig, data: str | None) -> dict:
        from .model import evaluate
        return evaluate(generator, run, data)

    def card_info(self, run: RunConfig) -> dict:
        return {"data": f"{run.data.path}, Gaussian noise sigma {run.data.sigma:g}, {run.data.crop}px crops",
                "losses": [f"l1 x{run.loss.l1_weight:g}", f"{run.train.loss} adversarial x{run.train.adv_weight:g}"]}


HEAD = DenoiseHead()
