"""The text-to-image head object. Torch-free at import time: `gan-app text2img` runs on ONNX Runtime."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from gan_app.config import RunConfig
from gan_app.head import GraphInput, GraphSpec, Head


class Text2ImageHead(Head):
    name = "text2image"
    verb = "text2img"
    summary = "Generate images from a caption (GAN-INT-CLS; generated-shapes model shipped)."
    recipes_ref = ".recipes"
    model_config_ref = ".model:Text2ImageModelConfig"
    data_config_ref = ".data:Text2ImageDataConfig"
    loss_config_ref = ".model:Text2ImageLossConfig"
    api_ref = ".generate:TextToImageGenerator"
    classifier_verb = "text2image-classifier"

    def builtin_data(self) -> tuple[str, ...]:
        from .data import SHAPES_NAMES
        return SHAPES_NAMES

    def graph(self, model_cfg: Any) -> GraphSpec:
        """The generator graph: (z, text embedding) -> image; the text encoder ships as `<stem>.text.onnx`."""
        return GraphSpec(inputs=(GraphInput("z", "latent", ("B", model_cfg.z_dim)),
                                 GraphInput("embedding", "embedding", ("B", model_cfg.text_dim))),
                         value_range=(-1.0, 1.0), out_channels=3,
                         extra={"z_dim": model_cfg.z_dim, "resolution": model_cfg.resolution,
                                "text_dim": model_cfg.text_dim, "text_encoder": model_cfg.text_encoder,
                                "text_graph": "<stem>.text.onnx"})

    def build(self, model_cfg: Any) -> tuple[Any, Any]:
        from .model import build_discriminator, build_generator
        return build_generator(model_cfg), build_discriminator(model_cfg)

    def dataset(self, run: RunConfig, split: str) -> Any:
        """Captioned items of `split`, tokenised with the model's vocabulary or, while it has none, with
        the training captions' words (which `complete_model` then gives the model)."""
        from .data import CaptionedDataset, load_split, vocabulary_for

        data = load_split(run.data, split, run.model.resolution)
        for note in data.notes:
            print(note, file=sys.stderr)
        return CaptionedDataset(data, vocabulary_for(run.model, data.captions if split == "train" else None))

    def complete_model(self, run: RunConfig, dataset: Any) -> Any:
        """The model config with `vocab` set to the training captions' words when it was empty."""
        return run.model if run.model.vocab else dataclasses.replace(run.model, vocab=tuple(dataset.vocab.pieces))

    def prepare(self, run: RunConfig, generator: Any, discriminator: Any, dataset: Any) -> None:
        """With `model.text_pretrain_steps` > 0: pretrain G's text encoder on image-caption matching
        and give D the same weights (both frozen by the model config from here on)."""
        steps = run.model.text_pretrain_steps
        if steps <= 0:
            return
        from .pretrain import pretrain_text_encoder

        result = pretrain_text_encoder(generator.text, dataset, run.model.resolution, steps,
                                       image_width=run.model.d_width)
        if discriminator is not None:
            discriminator.text.load_state_dict(generator.text.state_dict())
            if discriminator.matcher is not None:
                discriminator.matcher.load_state_dict(result.image_encoder.state_dict())
                discriminator.match_log_scale.fill_(result.log_scale)
        print(f"text encoder pretrained for {steps} steps: contrastive loss {result.loss:.3f}, "
              f"in-batch caption->image retrieval {result.retrieval_accuracy:.2f}; frozen for the GAN", file=sys.stderr)

    def objective(self, run: RunConfig) -> Any:
        from .objective import Text2ImageObjective
        m, loss = run.model, run.loss
        return Text2ImageObjective(m.z_dim, run.train.loss, mismatch_weight=loss.mismatch_weight,
                                   interp_weight=loss.interp_weight, ac_weight=loss.ac_weight,
                                   attribute_sizes=m.attribute_sizes, match_weight=m.match_weight,
                                   mismatch=loss.mismatch, mismatch_max_similarity=loss.mismatch_max_similarity)

    def evaluate(self, generator: Any, run: RunConfig, data: str | None, classifier: Any = None) -> dict:
        from .evaluate import evaluate_generator
        return evaluate_generator(generator, run, data, classifier=classifier)

    def card_info(self, run: RunConfig) -> dict:
        from .recipes import describe
        return describe(run)

    def export_companions(self, run: RunConfig, generator: Any, out_path: Any) -> dict:
        from .export import export_text_encoder
        return export_text_encoder(run, generator, out_path)

    def inference_command(self):
        from .generate import text2img_command
        return text2img_command

    def extra_commands(self) -> dict:
        from .commands import classifier_command
        return {self.classifier_verb: classifier_command}


HEAD = Text2ImageHead()
