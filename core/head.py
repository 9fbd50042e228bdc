"""The head contract: what one application of gan-app declares.

A *head* is one application (deblur, super-resolution, class-conditional, ...). It is
declared by ONE object, a subclass of `Head`, in `apps/<head>/head.py` (or in a
third-party package exposed through the `gan_app.heads` entry-point group). The CLI,
the training engine, export, the runtime and the shared contract test are generic over
this object, so a new head is one folder of code. Finding the installed heads is
`gan_app.discovery`.

Named user models are heads too: a model exported under its own name (e.g. a paired model
trained with `--name colorize`) lands in the user model folder (`gan_app.paths`) with a
card naming its `base_head`; discovery lists it as `base.as_named(name)`, a copy of that base head.

Head modules must stay cheap to import (no torch at module level): the CLI imports every
head to build its commands, and the inference path must not pull in torch.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .config import EmptyLossConfig, RunConfig


@dataclass(frozen=True)
class GraphInput:
    """One input of the exported generator graph.

    `kind` is one of: `image` (float, NCHW, in `GraphSpec.value_range`), `latent`
    (float noise, (B, Z)), `label` (int64 class index, (B,)), `embedding` (float, (B, D)).
    `shape` uses strings for dynamic axes, e.g. ("B", 3, "H", "W").
    """

    name: str
    kind: str
    shape: tuple
    dtype: str = "float32"


@dataclass(frozen=True)
class GraphSpec:
    """What a head's exported generator takes and returns; stored in ONNX metadata.

    The runtime reads this (from the ONNX file) to prepare inputs: image value range,
    the size multiple to pad to, and the output scale relative to the input.
    `out_channels` is the output's channels (1 grey, 3 RGB; 2 for the toy head's points); an image
    input whose shape leaves its channels open takes as many. Stored as `out_channels` since
    metadata format 2 (format 1 said `channels`, which `gan_app.runtime.metadata` still reads).
    """

    inputs: tuple[GraphInput, ...]
    output: str = "image"
    value_range: tuple[float, float] = (0.0, 1.0)
    out_channels: int = 3
    scale: int = 1
    size_multiple: int = 1
    extra: dict = field(default_factory=dict)  # e.g. class names, text encoder description

    def to_json_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json_dict(cls, data: dict) -> "GraphSpec":
        inputs = tuple(GraphInput(i["name"], i["kind"], tuple(i["shape"]), i.get("dtype", "float32")) for i in data["inputs"])
        rest = {k: v for k, v in data.items() if k != "inputs"}
        rest["value_range"] = tuple(rest.get("value_range", (0.0, 1.0)))
        return cls(inputs=inputs, **rest)


class Head:
    """Base class of every head: what one application declares, read by the CLI, `fit`, export and the runtime.

    A head sets `name`, `summary` and its `*_ref` references, and overrides what only it knows:
    `graph`, `build`, `dataset`, `objective`, `evaluate`, `card_info`. The rest has a default that
    serves most heads, overridden where a head differs (`complete_model`, `prepare`,
    `export_companions`, `inference_command`, ...). Methods that need torch import it inside the
    method body.
    """

    name: str = ""                 # registry name: `gan-app train NAME`
    verb: str | None = None        # inference verb: `gan-app VERB INPUT` (None: only `gan-app run NAME`)
    summary: str = ""
    # The model `gan-app run NAME`, `gan-app heads` and `gan_app.load(NAME)` use, for a head that ships several
    # (superres: x2/x4, PSNR/GAN/real; its verb picks among them); None: the one named like the head.
    default_model: str | None = None
    # Models besides the default that `route` may pick per image (`gan_app.load(NAME)` and the verb's
    # `--model auto`, see `gan_app.api.RoutedImageModel`); empty: one model for every input.
    routed_models: tuple[str, ...] = ()
    # What the image verbs (its own and `gan-app run NAME`) add to an input's stem: `photo.jpg` ->
    # `photo<suffix>.jpg`, the input's extension kept. `{scale}` is the model's scale.
    output_suffix: str = "_out"
    base: str | None = None        # for a named model (see `as_named`): the head it was trained with
    # How a head declares its configs and recipes: lazy references, imported on first use (so head.py
    # stays torch-free), relative to the head's package: "module" or "module:attribute", e.g.
    # ".model:DeblurModelConfig". The configuration methods below read them; a head does not override those.
    model_config_ref: str | None = None  # the model config dataclass: the architecture alone
    data_config_ref: str | None = None   # the data config dataclass
    loss_config_ref: str | None = None   # the loss config dataclass (None: the head has no loss settings)
    recipes_ref: str | None = None       # a module with RECIPES (name -> one line) and recipe(name) -> RunConfig
    api_ref: str | None = None           # torch-free "module:factory(onnx, threads=...)" for models that take no image

    def _resolve(self, ref_attribute: str, what: str) -> Any:
        """What the `*_ref` attribute `ref_attribute` names, imported relative to the package of the class
        that sets it, so a subclass defined elsewhere (a test's, a script's `__main__`) resolves as its base."""
        ref = getattr(self, ref_attribute)
        if not ref:
            raise NotImplementedError(f"head {self.name!r} defines no {what}")
        owner = next((cls for cls in type(self).__mro__ if ref_attribute in vars(cls)), type(self))
        module, _, attribute = ref.partition(":")
        loaded = importlib.import_module(module, owner.__module__.rpartition(".")[0])
        return getattr(loaded, attribute) if attribute else loaded

    # --- configuration -------------------------------------------------------------
    @property
    def recipes(self) -> tuple[str, ...]:
        """Recipe names; `tiny` is what the contract test trains."""
        return tuple(self.recipe_summaries())

    def recipe_summaries(self) -> dict[str, str]:
        """Recipe name -> one line saying what it trains (`gan-app heads`): the recipes module's RECIPES
        dict (a plain tuple of names gives empty lines); none without `recipes_ref`."""
        if not self.recipes_ref:
            return {}
        found = self._resolve("recipes_ref", "recipes").RECIPES
        return dict(found) if isinstance(found, dict) else {name: "" for name in found}

    def model_config_cls(self) -> type:
        """The dataclass that fully describes the generator/discriminator architecture."""
        return self._resolve("model_config_ref", "model config")

    def data_config_cls(self) -> type:
        """The dataclass of dataset options (path, crop size, degradations, ...)."""
        return self._resolve("data_config_ref", "data config")

    def loss_config_cls(self) -> type:
        """The dataclass of `run.loss`: the head's loss weights and choices (content loss, VGG weights, ...),
        kept out of the model config so that the architecture alone decides what a checkpoint's weights fit
        (`--resume` may change the loss, not the model). `EmptyLossConfig` without `loss_config_ref`."""
        return self._resolve("loss_config_ref", "loss config") if self.loss_config_ref else EmptyLossConfig

    def recipe(self, name: str = "default") -> RunConfig:
        """A complete run config by recipe name (`default`, `tiny`, `paper`, ...)."""
        return self._resolve("recipes_ref", "recipes").recipe(name)

    def graph(self, model_cfg: Any) -> GraphSpec:
        """What the exported generator built from `model_cfg` takes and returns."""
        raise NotImplementedError

    # --- training --------------------------------------------------------------------
    def build(self, model_cfg: Any) -> tuple[Any, Any]:
        """(generator, discriminator) torch modules for `model_cfg`."""
        raise NotImplementedError

    def dataset(self, run: RunConfig, split: str) -> Any:
        """A torch Dataset of dict items for `split` in {"train", "val"}; leaves `run` as it is (what the
        data says about the model goes through `complete_model`)."""
        raise NotImplementedError

    def complete_model(self, run: RunConfig, dataset: Any) -> Any:
        """The model config `run.model` completed from the training `dataset`, before any model is built.

        For fields a recipe leaves for the data to fill, that change no weight shape but travel with the
        model (the class names of a folder, a vocabulary from the captions), and the place to refuse a
        config that does not fit the data. The engine stores the result in `run.model`, hence in
        checkpoints and ONNX metadata; it runs on resumed runs too, so a complete config must come back
        unchanged. Default: `run.model` as it is.
        """
        return run.model

    def objective(self, run: RunConfig) -> Any:
        """A `gan_app.train.objective.GanObjective`: how G and D see a batch, extra terms."""
        raise NotImplementedError

    def prepare(self, run: RunConfig, generator: Any, discriminator: Any, dataset: Any) -> None:
        """A stage before the GAN game that sets weights in place (text-to-image: its text encoder
        pretrained on image-caption matching). Default: nothing.

        One `fit()` trains every head, so such a stage is the engine's to schedule, not a loop of the
        head's: it is called once, on a fresh run only (not on `--resume`, not with `train.init_from`,
        whose weights already hold it), after the models are built and before the optimizers and
        the EMA copy exist."""

    # --- export / evaluation / inference -----------------------------------------------
    def example_inputs(self, model_cfg: Any, batch: int, height: int, width: int) -> dict:
        """Random torch inputs, one per `graph(model_cfg).inputs` (name -> tensor), for export tracing and
        the parity check; drawn in input order from torch's global RNG, which the caller seeds.

        Derived from the graph, so a head declares nothing more: an `image` is (B, C, H, W) uniform in
        `value_range` (C: its shape's channel count, else `out_channels`), a `latent` or an `embedding`
        is (B, D) standard normal, a `label` is (B,) cycling through the classes of
        `extra["class_names"]` (which the runtime requires of every graph with a label).
        """
        import torch

        spec = self.graph(model_cfg)
        low, high = spec.value_range
        feeds = {}
        for item in spec.inputs:
            if item.kind == "image":
                channels = item.shape[1] if isinstance(item.shape[1], int) else spec.out_channels
                value = torch.rand(batch, channels, height, width) * (high - low) + low  # (B, C, H, W)
            elif item.kind == "label":
                value = torch.arange(batch) % len(spec.extra["class_names"])  # (B,)
            else:  # latent, embedding
                value = torch.randn(batch, item.shape[1])  # (B, D)
            feeds[item.name] = value.to(getattr(torch, item.dtype))
        return feeds

    def export_companions(self, run: RunConfig, generator: Any, out_path: Path) -> dict:
        """Other files that the exported generator's inference needs, written beside `out_path`
        (text-to-image: `<stem>.text.onnx`, the caption encoder whose output the generator graph takes),
        with their own parity check; returns the model card's `companions` entry, name -> {"file":
        its name beside `out_path`, ...} (empty, the default: none).

        Export writes and checks one graph, the generator's; it calls this after that graph passed
        its parity check, before the card is written, so the card describes every file."""
        return {}

    # The head's verb (one of `extra_commands()`) that trains a domain classifier on the user's data, for a
    # head whose metrics judge samples with one (`evaluate(..., classifier=PATH)`, `gan-app eval --classifier`);
    # None: `gan-app eval` refuses `--classifier`.
    classifier_verb: str | None = None

    def evaluate(self, generator: Any, run: RunConfig, data: str | None, classifier: str | Path | None = None) -> dict:
        """Metrics of a trained generator (name -> number, or name -> {row: {metric: number}}), with a
        `protocol` line describing them; `gan-app eval` and `train.eval_every` call it.

        `data`: what `gan-app eval --data` names (None: the head's own held-out set). `classifier`: a
        domain classifier file to judge the samples instead of the shipped one; given only to a head
        with a `classifier_verb` and only when the user passes one, so other heads may leave it out.
        """
        raise NotImplementedError

    def inference_command(self) -> Callable | None:
        """A typer command function for `gan-app <verb>` (torch-free), or None."""
        return None

    def builtin_data(self) -> tuple[str, ...]:
        """Names `--data` takes for the head's built-in sets (`photos`, `shapes`, ...), besides folders."""
        return ()

    def api(self, onnx: Any, *, threads: int | None = None) -> Any:
        """The Python API object for an exported model of this head (`gan_app.load`): the head's
        `api_ref` factory when set, else a `gan_app.api.ImageModel` (image-to-image heads)."""
        if self.api_ref:
            return self._resolve("api_ref", "Python API")(onnx, threads=threads)
        from gan_app.api import ImageModel
        return ImageModel(onnx)

    def route(self, pixels: Any) -> str | None:
        """Which of `routed_models` serves the image `pixels` ((H, W, C) array, as decoded), None for the
        default. Called only for heads that declare `routed_models`; torch-free."""
        return None

    def extra_commands(self) -> dict[str, Callable]:
        """More CLI verbs of this head, verb -> typer command function (e.g. `deblur-data`)."""
        return {}

    def card_info(self, run: RunConfig) -> dict:
        """What the model card states about data and losses actually used."""
        return {}

    # --- named models ----------------------------------------------------------------------
    # The model config field holding a user-chosen model name (`gan-app train paired --name colorize` sets
    # `model.name`), for a head whose models are named by their users; None: they are named like the head.
    model_name_field: str | None = None

    def model_name(self, run: RunConfig) -> str:
        """The name a model trained with `run` is exported and run under: its `model_name_field`
        when the head has one and it is set, else the head's own name."""
        return (getattr(run.model, self.model_name_field) if self.model_name_field else None) or self.name

    def as_named(self, name: str) -> "Head":
        """A copy of this head listed and exported under another name, with no verb of its own
        (`gan-app run NAME` runs it); `base` remembers the head it was trained with."""
        twin = copy.copy(self)
        twin.name, twin.verb, twin.base = name, None, self.base or self.name
        twin.summary = f"User model trained with the {twin.base!r} head."
        return twin


# Discovery moved to `gan_app.discovery`; these names still import from here (the public API
# module and third-party code use them), resolved on first use so neither module imports the
# other at import time.
_DISCOVERY = ("HeadEntry", "check_model_name", "discover_heads", "get_head", "head_name")


def __getattr__(name: str) -> Any:
    if name in _DISCOVERY:
        from . import discovery
        return getattr(discovery, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
