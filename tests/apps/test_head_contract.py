"""The head contract, run over EVERY discovered built-in head (a new head is covered automatically).

Per head: train its `tiny` recipe through the one engine into a temp folder -> the checkpoint
rebuilds the model from its own metadata -> export to ONNX -> ONNX Runtime matches PyTorch ->
inference through the CLI (`gan-app run HEAD IMAGE --model FILE` for image heads; the head's
own verb for heads whose graph takes no image).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from gan_app.apps.cli import build_app
from gan_app.checkpoint import has_module, load_generator, load_module, read_checkpoint
from gan_app.config import apply_overrides, to_dict
from gan_app.discovery import discover_heads
from gan_app.errors import UserError
from gan_app.export import export_checkpoint
from gan_app.head import Head
from gan_app.runtime.session import load_model
from gan_app.runtime.tiling import round_up

BUILTIN = sorted(name for name, entry in discover_heads().items() if entry.source == "builtin")

# CLI arguments of inference verbs for heads whose graph takes no image (the model file and
# -o are added). A new verb of that kind gets its arguments here; until then its CLI stage skips.
VERB_ARGS = {"generate": ["--class", "0", "-n", "4", "--seed", "0"],
             "text2img": ["a small red circle at the top left", "-n", "4", "--seed", "0"]}


BUILT: dict[str, list[dict]] = {}  # head name -> the model configs its training built real models from


@contextlib.contextmanager
def recording_builds(head):
    """Record in BUILT[head.name] every model config `head.build` gets outside the meta device."""
    build = type(head).build

    def recording(self, model_cfg):
        if str(torch.get_default_device()) != "meta":
            BUILT.setdefault(self.name, []).append(to_dict(model_cfg))
        return build(self, model_cfg)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(head), "build", recording)
        yield


@pytest.fixture(scope="module", params=BUILTIN)
def bundle(request, tmp_path_factory):
    """(head, run, checkpoint, onnx path) of the head's `tiny` recipe trained and exported."""
    from gan_app.train.loop import fit

    entry = discover_heads()[request.param]
    head = entry.load()
    assert head is not None, f"built-in head {request.param} failed to import: {entry.error}"
    assert "tiny" in head.recipes, f"head {head.name} has no `tiny` recipe for this test"
    run = head.recipe("tiny")
    apply_overrides(run, ["train.device=cpu", "train.cpu_threads=1"])
    out = tmp_path_factory.mktemp(f"{head.name}-run")
    with recording_builds(head):
        checkpoint = fit(head, run, out)
    onnx_path = out / f"{head.name}.onnx"
    export_checkpoint(head.name, checkpoint, onnx_path)
    return head, run, checkpoint, onnx_path


def test_tiny_recipe_trains_and_saves_a_checkpoint(bundle):
    head, run, checkpoint, _ = bundle
    tensors, meta = read_checkpoint(checkpoint)
    assert checkpoint.is_file() and meta["head"] == head.name and meta["step"] == run.train.steps
    assert has_module("G", tensors) and (has_module("D", tensors) == (run.train.adv_weight > 0))
    assert (checkpoint.parents[1] / "metrics.jsonl").is_file()


def test_checkpoint_rebuilds_the_model_from_its_own_metadata(bundle):
    head, run, checkpoint, _ = bundle
    loaded, rebuilt, generator = load_generator(checkpoint)
    assert loaded.name == head.name and to_dict(rebuilt) == to_dict(run)
    tensors, _ = read_checkpoint(checkpoint)
    fresh, _ = head.build(rebuilt.model)
    load_module("G_ema" if has_module("G_ema", tensors) else "G", fresh, tensors)
    for (name, a), (_, b) in zip(generator.state_dict().items(), fresh.state_dict().items()):
        assert torch.equal(a, b), name
    assert not generator.training  # rebuilt for inference


def test_the_model_config_is_complete_before_the_model_is_built(bundle):
    """`complete_model` (class names, vocabulary, ... from the data) runs before `build`: training builds
    its models from the very config the checkpoint stores."""
    head, _, checkpoint, _ = bundle
    _, rebuilt, _ = load_generator(checkpoint)
    assert BUILT[head.name] and all(cfg == to_dict(rebuilt.model) for cfg in BUILT[head.name])


def test_onnx_runtime_matches_pytorch(bundle):
    head, run, checkpoint, onnx_path = bundle
    model = load_model(onnx_path, threads=1)
    spec = head.graph(run.model)
    assert model.head == head.name and model.spec == type(spec).from_json_dict(spec.to_json_dict())
    multiple = max(1, spec.size_multiple)
    with torch.random.fork_rng():
        torch.manual_seed(7)
        feeds = head.example_inputs(run.model, 3, round_up(40, multiple), round_up(56, multiple))
    _, _, generator = load_generator(checkpoint)
    with torch.no_grad():
        want = generator(*(feeds[i.name] for i in spec.inputs)).numpy()
    got = model.run({name: value.numpy() for name, value in feeds.items()})
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", BUILTIN)
def test_configs_and_recipes_are_declared_by_reference(name):
    """One way to declare a head's configs and recipes: the `*_ref` attributes, which the base class reads."""
    head = discover_heads()[name].load()
    assert head.recipes_ref and head.model_config_ref and head.data_config_ref
    for member in ("recipes", "recipe", "recipe_summaries", "model_config_cls", "data_config_cls", "loss_config_cls"):
        assert getattr(type(head), member) is getattr(Head, member), f"{name} overrides Head.{member}"
    for recipe in head.recipes:
        run = head.recipe(recipe)
        assert run.head == head.name and isinstance(run.model, head.model_config_cls())
        assert isinstance(run.data, head.data_config_cls()) and isinstance(run.loss, head.loss_config_cls()), recipe


# Loss weights that stay in a model config, and why: each is also architecture there.
LOSS_FIELDS_IN_MODEL = {
    ("text2image", "match_weight"): "D holds the matching image encoder only when it is > 0",
}


@pytest.mark.parametrize("name", BUILTIN)
def test_the_model_config_is_the_architecture_and_loss_settings_have_their_section(name):
    """`--resume` compares the model config only, so loss weights and choices live in `run.loss`."""
    head = discover_heads()[name].load()
    fields = {f.name for f in dataclasses.fields(head.model_config_cls())}
    lossy = {f for f in fields if f.endswith(("_weight", "_weights", "_loss"))} - {f for h, f in LOSS_FIELDS_IN_MODEL if h == name}
    assert not lossy, f"{name}: loss settings {sorted(lossy)} in the model config; declare them in loss_config_ref"
    assert not fields & {f.name for f in dataclasses.fields(head.loss_config_cls())}


def test_a_checkpoint_from_before_the_loss_section_loads_the_same_run(bundle, tmp_path):
    """Old headers hold the loss settings inside `model` (and `perceptual_weights` for `vgg_weights`)."""
    from safetensors.torch import save_file

    from gan_app.checkpoint import META_KEY

    head, run, checkpoint, _ = bundle
    tensors, meta = read_checkpoint(checkpoint)
    stored = meta["run"]
    loss = {("perceptual_weights" if k == "vgg_weights" else k): v for k, v in stored.pop("loss").items()}
    stored["model"].update(loss)
    old = tmp_path / "old.safetensors"
    save_file(tensors, str(old), metadata={META_KEY: json.dumps(meta)})
    assert to_dict(load_generator(old)[1]) == to_dict(run)


@pytest.mark.parametrize("name", BUILTIN)
def test_train_names_a_model_only_where_the_head_declares_the_field(name):
    """`--name` goes to the head's `model_name_field` (a field of its model config) and names the model; a head
    without one refuses it in one line."""
    import dataclasses
    import json

    head = discover_heads()[name].load()
    args = ["train", name, "--recipe", "tiny", "--name", "contract-model", "--dry-run"]
    result = CliRunner().invoke(build_app(), args)
    if head.model_name_field is None:
        assert isinstance(result.exception, UserError) and "does not name its models" in str(result.exception)
        assert head.model_name(head.recipe("tiny")) == name
        return
    assert head.model_name_field in {f.name for f in dataclasses.fields(head.model_config_cls())}
    assert result.exit_code == 0, result.output
    run = json.loads(result.output)
    assert run["model"][head.model_name_field] == "contract-model"
    named = head.recipe("tiny")
    setattr(named.model, head.model_name_field, "contract-model")
    assert head.model_name(named) == "contract-model"


@pytest.mark.parametrize("name", BUILTIN)
def test_example_inputs_follow_the_graph(name):
    """The base `example_inputs`, derived from `graph()`: each input's name, shape, dtype and values."""
    head = discover_heads()[name].load()
    run = head.recipe("tiny")
    spec = head.graph(run.model)
    multiple = max(1, spec.size_multiple)
    sizes = {"B": 5, "H": round_up(24, multiple), "W": round_up(40, multiple)}
    feeds = head.example_inputs(run.model, sizes["B"], sizes["H"], sizes["W"])
    assert list(feeds) == [i.name for i in spec.inputs]
    for item in spec.inputs:
        value = feeds[item.name]
        assert tuple(value.shape) == tuple(sizes.get(d, d) for d in item.shape) and value.dtype == getattr(torch, item.dtype)
        if item.kind == "image":
            assert spec.value_range[0] <= value.min() and value.max() <= spec.value_range[1]
        if item.kind == "label":
            assert value.tolist() == [k % len(spec.extra["class_names"]) for k in range(sizes["B"])]


def test_the_card_lists_every_companion_file_written_beside_the_model(bundle):
    """`export_companions`: the files a model's inference needs besides its graph (text2image's caption
    encoder) lie beside the ONNX file, and its card names each of them."""
    import json

    from gan_app.paths import model_card

    _, _, _, onnx_path = bundle
    card = json.loads(model_card(onnx_path).read_text())
    companions = card.get("companions", {})
    assert all((onnx_path.parent / entry["file"]).is_file() for entry in companions.values())
    besides = {p.name for p in onnx_path.parent.glob(f"{onnx_path.stem}.*.onnx")}
    assert besides == {entry["file"] for entry in companions.values()}


@pytest.mark.parametrize("name", BUILTIN)
def test_the_default_model_is_one_the_head_ships(name):
    """`default_model`, for a head shipping several models: the one `gan-app run NAME` uses exists."""
    from gan_app.paths import models_of

    head = discover_heads()[name].load()
    shipped = [model for model, _, kind in models_of(name) if kind == "shipped"]
    assert head.default_model is None or head.default_model in shipped


def test_cli_inference_with_the_exported_model(bundle, tmp_path):
    head, run, checkpoint, onnx_path = bundle
    spec = head.graph(run.model)
    runner = CliRunner()
    images = [i for i in spec.inputs if i.kind == "image"]
    photo = tmp_path / "photo.png"
    multiple = max(1, spec.size_multiple)
    height, width = round_up(40, multiple), round_up(56, multiple)  # no padding: compare pixel for pixel
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(photo)
    out = tmp_path / "out.png"
    result = runner.invoke(build_app(), ["run", head.name, str(photo), "--model", str(onnx_path), "-o", str(out)])
    if len(images) == 1 and len(spec.inputs) == 1:
        assert result.exit_code == 0, result.output + repr(result.exception)
        assert _pixel_gap(head, run, checkpoint, pixels, np.asarray(Image.open(out))) <= 0.5 / 255 + 1e-3
        return
    # No image input: `gan-app run` refuses in one line and points to the head's own command.
    assert isinstance(result.exception, UserError) and "not just an image" in str(result.exception)
    if head.verb is None:
        return  # no inference verb (e.g. the toy head): the refusal above is its CLI contract
    if head.verb not in VERB_ARGS:
        pytest.skip(f"no CLI arguments known for `gan-app {head.verb}`; add them to VERB_ARGS")
    args = [head.verb, *VERB_ARGS[head.verb], "--model", str(onnx_path), "-o", str(out)]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    picture = np.asarray(Image.open(out), dtype=np.float32)
    assert picture.std() > 0  # a real picture, not a blank canvas


def test_eval_classifier_option_is_checked_before_evaluating(bundle, tmp_path):
    head, _, checkpoint, _ = bundle
    missing = tmp_path / "judge.safetensors"
    result = CliRunner().invoke(build_app(), ["eval", head.name, "--checkpoint", str(checkpoint), "--classifier", str(missing)])
    expected = f"train one with `gan-app {head.classifier_verb}`" if head.classifier_verb else "not judged by a classifier"
    assert isinstance(result.exception, UserError) and expected in str(result.exception), result.output
    assert head.classifier_verb is None or head.classifier_verb in head.extra_commands()


def _pixel_gap(head, run, checkpoint, pixels: np.ndarray, written: np.ndarray) -> float:
    """Largest |CLI output - PyTorch output| in [0, 1] units for an RGB input (both sides quantised by the CLI)."""
    _, _, generator = load_generator(checkpoint)
    channels = head.graph(run.model).inputs[0].shape[1]
    x = torch.from_numpy(pixels).permute(2, 0, 1).float()[None] / 255  # (1, 3, H, W)
    if channels == 1:
        x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    with torch.no_grad():
        want = generator(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()  # (H, W, C)
    got = written.astype(np.float32).reshape(want.shape[0], want.shape[1], -1) / 255
    return float(np.abs(got - want).max())


def test_eval_refuses_an_existing_output_before_evaluating(bundle, tmp_path, monkeypatch):
    head, _, checkpoint, _ = bundle
    out = tmp_path / "m.json"
    out.write_text("user data")
    monkeypatch.setattr(type(head), "evaluate", lambda *a, **k: pytest.fail("evaluated before checking -o"))
    result = CliRunner().invoke(build_app(), ["eval", head.name, "--checkpoint", str(checkpoint), "-o", str(out)])
    assert isinstance(result.exception, UserError) and "--overwrite" in str(result.exception)
    assert out.read_text() == "user data"


def test_export_never_replaces_files_or_shadows_shipped_weights_unasked(bundle, tmp_path, monkeypatch):
    head, _, checkpoint, _ = bundle
    monkeypatch.setenv("GAN_APP_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    shadow = runner.invoke(build_app(), ["export", head.name, "--checkpoint", str(checkpoint)])
    assert isinstance(shadow.exception, UserError) and "--install" in str(shadow.exception)
    assert not (tmp_path / "home" / "models").exists()
    out = tmp_path / "m.onnx"
    out.with_suffix(".json").write_text("user notes")                        # a file the export would replace
    refused = runner.invoke(build_app(), ["export", head.name, "--checkpoint", str(checkpoint), "-o", str(out)])
    assert isinstance(refused.exception, UserError) and "--overwrite" in str(refused.exception)
    assert out.with_suffix(".json").read_text() == "user notes" and not out.exists()
    forced = runner.invoke(build_app(), ["export", head.name, "--checkpoint", str(checkpoint), "-o", str(out), "--overwrite"])
    assert forced.exit_code == 0, forced.output
    installed = runner.invoke(build_app(), ["export", head.name, "--checkpoint", str(checkpoint), "--install"])
    assert installed.exit_code == 0 and "to remove it: rm" in installed.output


def test_heads_lists_every_heads_recipes_with_a_line_each():
    listing = CliRunner().invoke(build_app(), ["heads"]).output.splitlines()
    for name in BUILTIN:
        row = listing.index(next(line for line in listing if line.startswith(f"{name} ")))
        summaries = discover_heads()[name].load().recipe_summaries()
        assert listing[row + 1].strip() == f"recipes (gan-app train {name} --recipe NAME):"
        for offset, (recipe, summary) in enumerate(summaries.items(), start=2):
            assert summary and listing[row + offset].split() == [recipe, *summary.split()]


def test_eval_refuses_nan_metrics(bundle, tmp_path, monkeypatch):
    head, _, checkpoint, _ = bundle
    monkeypatch.setattr(type(head), "evaluate", lambda *a, **k: {"psnr": float("nan")})
    out = tmp_path / "m.json"
    result = CliRunner().invoke(build_app(), ["eval", head.name, "--checkpoint", str(checkpoint), "-o", str(out)])
    assert isinstance(result.exception, UserError) and "NaN or infinite metrics" in str(result.exception)
    assert not out.exists()
