"""Text encoders, GAN-INT-CLS models and the objective's terms (closed forms on tiny models)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gan_app.apps.text2image.model import Text2ImageModelConfig, build_discriminator, build_generator
from gan_app.apps.text2image.objective import Text2ImageObjective, interpolate
from gan_app.apps.text2image.text_encoder import ReducedTextEncoder, TextEncoder
from gan_app.apps.text2image.wordllama_table import table
from gan_app.losses.adversarial import get_game
from gan_app.train.objective import Turn, Verdict

TINY = dict(text_encoder="trainable", vocab_size=20, max_tokens=6, word_dim=8, text_hidden=8, text_dim=6, proj_dim=4,
            resolution=8, z_dim=5, g_width=4, d_width=4)


def tokens(*rows):
    return torch.tensor([list(r) + [0] * (6 - len(r)) for r in rows], dtype=torch.int64)


def test_embedding_ignores_padding_but_not_word_order():
    torch.manual_seed(0)
    enc = TextEncoder("trainable", 20, 8, 8, 6).eval()
    short = enc(tokens([3, 4, 5]))
    longer = enc(torch.cat([tokens([3, 4, 5]), torch.zeros(1, 10, dtype=torch.int64)], dim=1))  # more padding
    torch.testing.assert_close(short, longer)
    assert not torch.allclose(enc(tokens([3, 4, 5])), enc(tokens([5, 4, 3])), atol=1e-4)


def test_wordllama_encoder_uses_the_frozen_unit_table_and_keeps_it_out_of_checkpoints():
    enc = TextEncoder("wordllama", 32001, 0, 8, 6)
    rows = table()
    assert enc.table.shape == (32001, 256) and not enc.table.requires_grad
    np.testing.assert_allclose(np.linalg.norm(rows[1:50], axis=1), 1.0, atol=1e-5)
    assert not rows[0].any() and "table" not in enc.state_dict()
    assert all(not n.startswith("table") for n, _ in enc.named_parameters())


def test_reduced_encoder_matches_the_full_one_on_renumbered_rows():
    torch.manual_seed(1)
    enc = TextEncoder("trainable", 20, 8, 8, 6).eval()
    keep = [0, 3, 7, 11]
    reduced = ReducedTextEncoder(enc, keep).eval()
    with torch.no_grad():
        torch.testing.assert_close(reduced(tokens([1, 2, 3, 1])), enc(tokens([3, 7, 11, 3])))


def test_generator_and_discriminator_shapes_and_conditioning():
    torch.manual_seed(2)
    cfg = Text2ImageModelConfig(**TINY, attribute_sizes=(2, 3))
    g, d = build_generator(cfg).eval(), build_discriminator(cfg).eval()
    e = g.encode(tokens([1, 2], [3, 4]))  # (2, 6)
    z = torch.randn(1, 5).expand(2, 5)
    images = g(z, e)
    assert images.shape == (2, 3, 8, 8) and images.abs().max() <= 1
    assert not torch.allclose(images[0], images[1])  # same z, different text
    logits, attrs = d(images, d.encode(tokens([1, 2], [3, 4])))
    assert logits.shape == (2,) and attrs.shape == (2, 5)
    swapped, attrs2 = d(images, d.encode(tokens([3, 4], [1, 2])))
    assert not torch.allclose(logits, swapped) and torch.allclose(attrs, attrs2)  # text moves the logit, not the attrs
    with pytest.raises(ValueError, match="embedding"):
        g(z, e[:, :3])


def test_interpolate_mixes_each_caption_with_its_neighbour():
    e = torch.tensor([[0.0, 2.0], [4.0, 6.0], [8.0, 10.0]])
    torch.testing.assert_close(interpolate(e), torch.tensor([[4.0, 6.0], [2.0, 4.0], [6.0, 8.0]]))


class _Critic(torch.nn.Module):
    """A discriminator stand-in: logit = mean(image) + first embedding coordinate."""

    def text(self, tokens):
        return tokens[:, :2].float()  # D's "embedding" = first two tokens

    def forward(self, images, embedding):
        return images.mean((1, 2, 3)) + embedding[:, 0]


def test_mismatch_term_scores_real_images_with_rolled_text_as_negatives():
    obj = Text2ImageObjective(z_dim=3, game="hinge")
    batch = {"image": torch.zeros(3, 3, 4, 4), "tokens": torch.tensor([[1, 0, 0], [2, 0, 0], [3, 0, 0]])}
    critic, fake = obj.critic(_Critic(), batch), torch.zeros(3, 3, 4, 4)
    terms = obj.discriminator_terms(batch, fake, Turn(None, critic, critic(batch["image"]), critic(fake)))
    wrong_first = torch.tensor([3.0, 1.0, 2.0])  # rolled by one
    torch.testing.assert_close(terms["mismatch"][1], F.relu(1 + wrong_first).mean())
    assert get_game("nonsaturating").d_fake_loss(torch.tensor([0.0])).item() == pytest.approx(np.log(2))


def test_attribute_terms_are_summed_cross_entropies():
    torch.manual_seed(3)
    obj = Text2ImageObjective(z_dim=3, game="hinge", mismatch_weight=0.0, interp_weight=0.0, ac_weight=2.0,
                              attribute_sizes=(2, 3))
    fake, logits = torch.randn(4, 3, 4, 4), torch.randn(4, 5)
    attrs = torch.tensor([[0, 2], [1, 0], [1, 1], [0, 0]])
    turn = Turn(None, d_fake=Verdict(torch.zeros(4), {"attributes": logits}))  # D's verdict on the fakes
    weight, value = obj.generator_terms({"attributes": attrs}, fake, turn)["attributes"]
    want = F.cross_entropy(logits[:, :2], attrs[:, 0]) + F.cross_entropy(logits[:, 2:], attrs[:, 1])
    assert weight == 2.0 and torch.allclose(value, want)


def test_gan_int_term_judges_interpolated_fakes_against_interpolated_d_text():
    torch.manual_seed(4)
    cfg = Text2ImageModelConfig(**TINY)
    g, d = build_generator(cfg), build_discriminator(cfg)
    obj = Text2ImageObjective(z_dim=5, game="hinge")
    batch = {"image": torch.rand(4, 3, 8, 8) * 2 - 1, "tokens": tokens([1, 2], [3], [4, 5, 6], [7])}
    fake = obj.generate(g, batch)
    critic = obj.critic(d.requires_grad_(False), batch)
    turn = Turn(g, critic, None, critic(fake))
    seen = []
    d.register_forward_hook(lambda m, args, out: seen.append(args[1]))
    terms = obj.generator_terms(batch, fake, turn)
    torch.testing.assert_close(seen[-1], interpolate(d.encode(batch["tokens"])))
    assert terms["interp"][1].requires_grad and terms["interp"][1].dim() == 0
    terms["interp"][1].backward()
    assert g.text.gru.weight_ih_l0.grad is not None and g.text.gru.weight_ih_l0.grad.abs().sum() > 0  # G's encoder learns
    assert all(p.grad is None for p in d.parameters())  # frozen D untouched
