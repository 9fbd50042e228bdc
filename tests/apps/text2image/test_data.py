"""Shapes set, tokenisation, caption folders and the training dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gan_app.apps.text2image.captions import load_captioned_folder, read_captions
from gan_app.apps.text2image.data import CaptionedDataset, Text2ImageDataConfig, load_split, model_words, vocabulary_for
from gan_app.apps.text2image.model import Text2ImageModelConfig
from gan_app.apps.text2image.shapes import (ATTRIBUTE_VALUES, COLOURS, HELDOUT_PAIRS, SHAPES, all_captions,
                                            shapes_split, vocabulary)
from gan_app.apps.text2image.tokens import Vocabulary, trainable_vocabulary, words
from gan_app.errors import UserError


def test_heldout_pairs_never_appear_in_training_and_only_there_in_heldout():
    held = {(SHAPES.index(s), COLOURS.index(c)) for c, s in HELDOUT_PAIRS}
    train = {tuple(p) for p in shapes_split("train", 400, 16).attributes[:, :2]}
    heldout = {tuple(p) for p in shapes_split("heldout", 100, 16).attributes[:, :2]}
    assert not (train & held) and heldout == held
    assert len(train) == len(SHAPES) * len(COLOURS) - len(held)  # every seen pair occurs


def test_shapes_are_deterministic_and_show_the_stated_colour_where_stated():
    a, b = shapes_split("val", 30, 32), shapes_split("val", 30, 32)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.attributes, b.attributes)
    for image, (shape, colour, size, position) in zip(a.images, a.attributes):
        row, col = divmod(int(position), 3)
        cy, cx = [int(c * 32) for c in (0.22, 0.5, 0.78)][row], [int(c * 32) for c in (0.22, 0.5, 0.78)][col]
        centre = image[:, cy - 1: cy + 2, cx - 1: cx + 2].reshape(3, -1).mean(1)  # the shape covers its centre
        expected = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (50, 80, 230), "yellow": (230, 210, 40),
                    "white": (235, 235, 235)}[COLOURS[colour]]
        if not (SHAPES[shape] == "cross" and size == 0):  # a small cross's arms are too thin for a 3x3 probe
            assert np.abs(centre - np.array(expected)).max() < 70, (COLOURS[colour], centre)


def test_captions_state_every_fact_in_several_phrasings():
    attrs = np.array([2, 3, 0, 8])  # triangle, yellow, small, bottom right
    captions = all_captions(attrs)
    assert len(set(captions)) == len(captions) >= 10
    for text in captions:
        ws = set(words(text))
        assert {"triangle", "yellow", "bottom", "right"} <= ws and ws & {"small", "tiny"}
    assert set(w for c in captions for w in words(c)) <= set(vocabulary())


def test_vocabulary_encodes_pads_reports_unknown_and_truncates():
    vocab = Vocabulary({"red": (5,), "circle": (7, 8)}, max_tokens=4)
    enc = vocab.encode(["Red circle!", "a red zebra", "circle circle circle"])
    assert enc.tokens.tolist() == [[5, 7, 8, 0], [5, 0, 0, 0], [7, 8, 7, 8]]
    assert enc.unknown == [[], ["a", "zebra"], []] and enc.truncated == [False, False, True]
    assert Vocabulary.from_json_dict(vocab.to_json_dict()) == vocab
    assert trainable_vocabulary(("a", "b"), 3).pieces == {"a": (1,), "b": (2,)}
    assert words("top-left: a RED circle") == ["top", "left", "a", "red", "circle"]


def test_wordllama_vocabulary_uses_the_wheels_bpe_pieces():
    cfg = Text2ImageModelConfig(vocab=("red", "circle", "triangle"))
    vocab = vocabulary_for(cfg)
    assert vocab.pieces["red"] == (2654 + 1,) and vocab.pieces["triangle"] == (17205 + 1,)  # Llama-2 ids + pad row


def test_trainable_vocabulary_is_taken_from_captions_and_bounded():
    cfg = Text2ImageModelConfig(text_encoder="trainable", vocab_size=4)
    captions = [["red circle", "red"], ["blue"]]
    vocab = vocabulary_for(cfg, captions)
    assert model_words(cfg, captions) == tuple(vocab.pieces) == ("blue", "circle", "red") and vocab.pieces["red"] == (3,)
    assert cfg.vocab == ()  # the config is the head's complete_model's to fill
    with pytest.raises(UserError, match="vocab_size"):
        vocabulary_for(Text2ImageModelConfig(text_encoder="trainable", vocab_size=3), [["a b c d"]])


def test_caption_folder_pairs_images_with_utf8_captions_and_splits(tmp_path):
    for i in range(12):
        Image.fromarray(np.full((20, 30, 3), i * 20, np.uint8)).save(tmp_path / f"im{i:02d}.png")
        if i != 11:
            (tmp_path / f"im{i:02d}.txt").write_text(f"caption {i}\n\n second line {i}\n", encoding="utf-8")
    train = load_captioned_folder(tmp_path, "train", 8)
    val = load_captioned_folder(tmp_path, "val", 8)
    assert len(train.captions) == 9 and len(val.captions) == 2  # 11 captioned, every 10th is val
    assert train.captions[0] == ["caption 1", "second line 1"] and train.images.shape == (9, 3, 8, 8)
    assert "1 image(s)" in train.notes[0]
    (tmp_path / "im00.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(UserError, match="im00.txt is not UTF-8"):
        read_captions(tmp_path / "im00.txt")


def test_cub_layout_is_read_from_images_and_text_c10(tmp_path):
    for cls in ("001.Albatross", "002.Auklet"):
        (tmp_path / "images" / cls).mkdir(parents=True)
        (tmp_path / "text_c10" / cls).mkdir(parents=True)
        for k in range(2):
            Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "images" / cls / f"b{k}.jpg")
            (tmp_path / "text_c10" / cls / f"b{k}.txt").write_text(f"a bird {cls}\nsmall bird", encoding="utf-8")
    data = load_captioned_folder(tmp_path, "train", 8)
    assert len(data.captions) == 3 and data.captions[0][0] == "a bird 001.Albatross"


def test_dataset_batches_pick_one_of_each_items_own_captions():
    cfg = Text2ImageModelConfig(text_encoder="trainable", max_tokens=16)
    data = load_split(Text2ImageDataConfig(limit=6), "train", 16)
    ds = CaptionedDataset(data, vocabulary_for(cfg, data.captions))
    torch.manual_seed(0)
    batch = ds.__getitems__([0, 1, 2, 3, 4, 5])
    assert batch["image"].shape == (6, 3, 16, 16) and -1 <= batch["image"].min() and batch["image"].max() <= 1
    vocab = ds.vocab  # the one the dataset tokenised with
    for i in range(6):
        options = vocab.encode(data.captions[i]).tokens
        assert any(np.array_equal(batch["tokens"][i].numpy(), row) for row in options)
    assert torch.equal(batch["attributes"], torch.from_numpy(data.attributes[:6]))
    assert len(ATTRIBUTE_VALUES) == batch["attributes"].shape[1]
