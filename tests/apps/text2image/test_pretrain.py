"""Joint image-text pretraining of the text encoder, and the frozen encoder the GAN then uses."""

from __future__ import annotations

import math

import pytest
import torch

from gan_app.apps.text2image.head import HEAD
from gan_app.apps.text2image.model import Text2ImageModelConfig, build_discriminator, build_generator
from gan_app.apps.text2image.pretrain import contrastive_loss, pretrain_text_encoder
from gan_app.apps.text2image.text_encoder import TextEncoder
from gan_app.config import apply_overrides
from gan_app.train.objective import Turn


def tiny_shapes_run(pretrain_steps: int, limit: int = 256, resolution: int = 8):
    """The `tiny` recipe on `limit` shapes items with `pretrain_steps` of text pretraining (its model config
    completed from the data, as the engine does), and its data."""
    run = apply_overrides(HEAD.recipe("tiny"), [f"model.text_pretrain_steps={pretrain_steps}", f"data.limit={limit}",
                                                f"model.resolution={resolution}"])
    data = HEAD.dataset(run, "train")
    run.model = HEAD.complete_model(run, data)
    return run, data


def test_contrastive_loss_is_low_only_when_rows_match():
    torch.manual_seed(0)
    a = torch.randn(8, 5)
    scale = torch.tensor(4.0)
    matched, accuracy = contrastive_loss(a, a, scale)
    shuffled, wrong = contrastive_loss(a, a.roll(1, dims=0), scale)
    assert accuracy == 1.0 and wrong == 0.0 and matched < 0.1 < 2.0 < shuffled


def test_pretraining_teaches_the_encoder_to_pick_each_captions_image():
    torch.manual_seed(0)
    run, data = tiny_shapes_run(0, resolution=16)  # 8 px is too coarse to tell the shapes apart
    encoder = TextEncoder("trainable", run.model.vocab_size, 16, 32, 16)
    before = pretrain_text_encoder(encoder, data, 16, steps=1, batch_size=32, log_every=1000)
    after = pretrain_text_encoder(encoder, data, 16, steps=150, batch_size=32, window=25, log_every=1000)
    # chance is 1/32; many batch items share facts, so even a perfect encoder stays below 1
    assert before.retrieval_accuracy < 0.15 and after.retrieval_accuracy > 0.6
    assert after.loss < before.loss - 1.0


def test_frozen_encoder_takes_no_gradient_while_the_rest_of_g_does():
    torch.manual_seed(0)
    cfg = Text2ImageModelConfig(text_encoder="trainable", vocab_size=20, max_tokens=6, word_dim=8, text_hidden=8,
                                text_dim=6, proj_dim=4, resolution=8, z_dim=5, g_width=4, d_width=4,
                                text_pretrain_steps=1)
    g, d = build_generator(cfg), build_discriminator(cfg)
    tokens = torch.tensor([[3, 4, 5, 0], [6, 7, 0, 0]])
    fake = g(torch.randn(2, 5), g.encode(tokens))
    (d(fake, d.encode(tokens)).sum() + fake.square().mean()).backward()
    assert all(p.grad is None for p in g.text.parameters()) and all(p.grad is None for p in d.text.parameters())
    assert all(p.grad is not None for p in g.net.parameters())


def test_prepare_pretrains_g_text_encoder_and_gives_d_the_same_weights():
    torch.manual_seed(0)
    run, data = tiny_shapes_run(3)
    g, d = HEAD.build(run.model)
    initial = {k: v.clone() for k, v in g.text.state_dict().items()}
    HEAD.prepare(run, g, d, data)
    trained = g.text.state_dict()
    assert any(not torch.equal(initial[k], trained[k]) for k in initial)
    assert all(torch.equal(trained[k], v) for k, v in d.text.state_dict().items())
    assert g.text.frozen and d.text.frozen  # pretraining leaves them frozen for the GAN


def test_no_pretraining_steps_leaves_the_encoders_trainable_and_untouched():
    run, data = tiny_shapes_run(0, limit=16)
    g, d = HEAD.build(run.model)
    before = {k: v.clone() for k, v in g.text.state_dict().items()}
    HEAD.prepare(run, g, d, data)
    assert all(torch.equal(before[k], v) for k, v in g.text.state_dict().items()) and not g.text.frozen


def test_matching_loss_needs_pretraining_and_uses_the_frozen_pretrained_image_encoder():
    with pytest.raises(ValueError, match="text_pretrain_steps"):
        build_discriminator(Text2ImageModelConfig(match_weight=1.0))
    torch.manual_seed(0)
    run, data = tiny_shapes_run(3, limit=32)
    run.model.match_weight = 1.0
    g, d = HEAD.build(run.model)
    HEAD.prepare(run, g, d, data)
    assert d.match_log_scale.item() == pytest.approx(math.log(1 / 0.07), abs=0.05)  # 3 steps barely move it
    d.train()
    assert d.training and not d.matcher.training  # real-image batch-norm statistics, never a fake batch's
    matcher = {k: v.clone() for k, v in d.matcher.state_dict().items()}

    objective = HEAD.objective(run)
    batch = data.__getitems__(list(range(8)))
    fake = objective.generate(g, batch)
    critic = objective.critic(d, batch)
    terms = objective.generator_terms(batch, fake, Turn(g, critic, None, critic(fake)))
    weight, loss = terms["match"]
    assert weight == 1.0 and loss.item() > 0
    loss.backward()
    assert all(p.grad is None for p in d.matcher.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in g.net.parameters())
    assert all(torch.equal(v, d.matcher.state_dict()[k]) for k, v in matcher.items())


def test_hard_negatives_pick_the_closest_other_fact_never_a_rewording():
    from gan_app.apps.text2image.objective import hardest_negatives

    e = torch.tensor([[1.0, 0.0, 0.0],    # 0
                      [0.999, 0.04, 0.0],  # 1: a rewording of 0 (cosine ~0.999)
                      [0.8, 0.6, 0.0],     # 2: close to 0 and 1, another fact
                      [0.0, 0.1, 1.0]])    # 3: far from everything, nearest to 2
    assert hardest_negatives(e, 0.95).tolist() == [2, 2, 1, 2]
    assert hardest_negatives(e, 1.5).tolist() == [1, 0, 1, 2]  # no threshold: rewordings count
    assert hardest_negatives(e[:2], 0.95).tolist() == [1, 0]  # only rewordings: fall back to the roll


def test_hard_mismatch_feeds_d_the_chosen_captions():
    torch.manual_seed(0)
    run, data = tiny_shapes_run(0, limit=16)
    run.loss.mismatch = "hard"
    g, d = HEAD.build(run.model)
    objective = HEAD.objective(run)
    batch = data.__getitems__(list(range(6)))
    fake = objective.generate(g, batch)
    seen = []
    real_forward = d.forward
    d.forward = lambda images, embedding: seen.append(embedding) or real_forward(images, embedding)
    critic = objective.critic(d, batch)
    objective.discriminator_terms(batch, fake.detach(), Turn(g, critic, critic(batch["image"]), critic(fake.detach())))
    text = d.encode(batch["tokens"])
    from gan_app.apps.text2image.objective import hardest_negatives
    torch.testing.assert_close(seen[-1], text[hardest_negatives(text, run.loss.mismatch_max_similarity)])
