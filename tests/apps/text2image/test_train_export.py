"""The tiny recipe end to end: train 2 steps, rebuild, export generator + text encoder, CLI, evaluation."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from gan_app.apps.cli import build_app
from gan_app.apps.text2image.data import vocabulary_for
from gan_app.apps.text2image.evaluate import r_precision
from gan_app.apps.text2image.text_runtime import TextEncoderSession, text_graph_path
from gan_app.checkpoint import load_generator
from gan_app.errors import UserError


def test_checkpoint_keeps_the_vocabulary_learned_from_the_captions(trained):
    run, checkpoint = trained
    head, rebuilt, generator = load_generator(checkpoint)
    assert head.name == "text2image" and rebuilt.model.vocab == run.model.vocab and "circle" in rebuilt.model.vocab
    e = generator.encode(torch.from_numpy(vocabulary_for(rebuilt.model).encode(["red circle", "blue square"]).tokens))
    assert e.shape == (2, rebuilt.model.text_dim) and not torch.allclose(e[0], e[1])


def test_text_encoder_onnx_matches_pytorch_with_numpy_tokens(trained, exported):
    _, _, generator = load_generator(trained[1])
    text = TextEncoderSession(text_graph_path(exported))
    captions = ["a small red circle at the top left", "top left: a circle, red, small", "blue square"]
    vocab = vocabulary_for(load_generator(trained[1])[1].model)
    with torch.no_grad():
        want = generator.encode(torch.from_numpy(vocab.encode(captions).tokens)).numpy()
    np.testing.assert_allclose(text.encode(captions), want, atol=1e-5)
    card = json.loads(exported.with_suffix(".json").read_text())
    assert card["companions"]["text_encoder"]["file"] == "tiny-text2image.text.onnx"
    assert {i.name for i in ort.InferenceSession(str(exported)).get_inputs()} == {"z", "embedding"}


def test_text_session_refuses_empty_and_unknown_captions_and_notes_the_rest(exported):
    text = TextEncoderSession(text_graph_path(exported))
    with pytest.raises(UserError, match="empty"):
        text.tokens(["  ...  "])
    with pytest.raises(UserError, match="none of the words"):
        text.tokens(["zebra giraffe"])
    with pytest.raises(UserError, match="that say what to draw"):   # known function words alone say nothing
        text.tokens(["the purple hexagon"])
    notes = []
    text.tokens(["a red zebra " + "circle " * 30], warn=notes.append)
    assert "zebra" in notes[0] and "cut off" in notes[1]


def test_cli_writes_a_reproducible_grid_and_an_interpolation(exported, tmp_path):
    runner, app = CliRunner(), build_app()
    args = ["text2img", "a small red circle at the top left", "-n", "4", "--seed", "5", "--model", str(exported), "--zoom", "1"]
    for name in ("a.png", "b.png"):
        result = runner.invoke(app, [*args, "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    a, b = (np.asarray(Image.open(tmp_path / n)) for n in ("a.png", "b.png"))
    assert np.array_equal(a, b) and a.shape == (2 * 8 + 6, 2 * 8 + 6, 3)
    result = runner.invoke(app, [*args, "--truncation", "0", "-o", str(tmp_path / "c.png")])  # default noise is truncated
    assert result.exit_code == 0 and not np.array_equal(a, np.asarray(Image.open(tmp_path / "c.png")))
    result = runner.invoke(app, ["text2img", "--interpolate", "red circle", "blue square", "-n", "5", "--seed", "1",
                                 "--model", str(exported), "--zoom", "1", "-o", str(tmp_path / "walk.png")])
    assert result.exit_code == 0, result.output
    assert np.asarray(Image.open(tmp_path / "walk.png")).shape == (8 + 4, 5 * 8 + 12, 3)
    for bad in (["text2img", "", "--model", str(exported)], ["text2img", "zebra", "--model", str(exported)],
                [*args[:2], "--truncation", "-1", "--model", str(exported)]):
        result = runner.invoke(app, [*bad, "-o", str(tmp_path / "x.png")])
        assert result.exit_code != 0 and isinstance(result.exception, UserError)


def test_r_precision_counts_images_whose_true_facts_score_best():
    sizes_total = 4 + 5 + 2 + 9
    attrs = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 0, 2]])
    logp = np.full((3, sizes_total), -5.0)
    for i, a in enumerate(attrs[:2]):  # items 0 and 1: the classifier sees exactly their facts
        logp[i, [a[0], 4 + a[1], 9 + a[2], 11 + a[3]]] = 0.0
    logp[2, [0, 4, 9, 11]] = 0.0  # item 2's image looks like item 0's facts
    assert r_precision(logp, attrs, candidates=3) == pytest.approx(2 / 3)  # every other item is a candidate


def test_evaluate_reports_seen_and_heldout_metrics(trained, tmp_path):
    from gan_app.apps.text2image.classifier import CLASS_NAMES, train_attribute_classifier
    from gan_app.apps.text2image.evaluate import evaluate_generator
    from gan_app.apps.text2image.shapes import shapes_split
    from gan_app.metrics.domain_classifier import save_classifier

    real = shapes_split("train", 64, 8)
    model, info = train_attribute_classifier(real.images, real.attributes, epochs=1, batch=32, width=4)
    path = save_classifier(model, tmp_path / "c.safetensors", CLASS_NAMES, info)
    _, run, generator = load_generator(trained[1])
    metrics = evaluate_generator(generator, run, n=12, classifier=path)
    for split in ("seen", "heldout"):
        for key in ("shape", "colour", "size", "position", "all"):
            assert 0.0 <= metrics[f"{split}_accuracy_{key}"] <= 1.0
        assert 0.0 <= metrics[f"{split}_r_precision"] <= 1.0 and metrics[f"{split}_frechet_distance"] >= 0
    assert "R-precision" in metrics["protocol"]
    with pytest.raises(UserError, match="shapes"):
        evaluate_generator(generator, run, data=str(tmp_path), n=4, classifier=path)
