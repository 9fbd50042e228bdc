"""The DF-GAN/projection-style option: text-affine batch norm in G, projection D, its ONNX export."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from gan_app.apps.text2image.head import HEAD
from gan_app.apps.text2image.model import Text2ImageModelConfig, build_discriminator, build_generator
from gan_app.apps.text2image.objective import Text2ImageObjective
from gan_app.export import export_generator
from gan_app.nn.conditional import VectorConditionalBatchNorm2d
from gan_app.train.objective import Turn

TINY = dict(text_encoder="trainable", vocab_size=20, max_tokens=6, word_dim=8, text_hidden=8, text_dim=6, proj_dim=4,
            resolution=8, z_dim=5, g_width=4, d_width=4, fusion="affine", critic="projection", d_norm="none")


def tokens(*rows):
    return torch.tensor([list(r) + [0] * (6 - len(r)) for r in rows], dtype=torch.int64)


def test_vector_conditional_batch_norm_is_batch_norm_scaled_by_linear_maps_of_the_condition():
    torch.manual_seed(0)
    cbn = VectorConditionalBatchNorm2d(3, 2).eval()
    x, cond = torch.randn(4, 3, 5, 5), torch.randn(4, 2)
    torch.testing.assert_close(cbn(x, cond), F.batch_norm(x, cbn.bn.running_mean, cbn.bn.running_var))  # init = BN
    for layer in (cbn.gamma, cbn.beta):
        torch.nn.init.normal_(layer.weight)
        torch.nn.init.normal_(layer.bias)
    g = 1 + cond @ cbn.gamma.weight.T + cbn.gamma.bias  # (4, 3)
    b = cond @ cbn.beta.weight.T + cbn.beta.bias
    expected = F.batch_norm(x, cbn.bn.running_mean, cbn.bn.running_var) * g[:, :, None, None] + b[:, :, None, None]
    torch.testing.assert_close(cbn(x, cond), expected)
    with pytest.raises(ValueError, match="cond"):
        cbn(x, cond[:2])


def test_affine_generator_depends_on_z_and_on_text_through_its_norms_alone():
    torch.manual_seed(1)
    cfg = Text2ImageModelConfig(**TINY)
    g = build_generator(cfg).eval()
    e = g.encode(tokens([1, 2], [3, 4]))  # (2, 6)
    z = torch.randn(1, 5).expand(2, 5)
    images = g(z, e)
    assert images.shape == (2, 3, 8, 8) and images.abs().max() <= 1
    assert not torch.allclose(images[0], images[1], atol=1e-5)  # same z, different text
    assert not torch.allclose(g(torch.randn(2, 5), e), images, atol=1e-5)  # same text, different z
    with torch.no_grad():  # cut the text out of the 1x1 input: only the conditioned norms can carry it now
        g.net.stages[0].conv.weight[cfg.z_dim:] = 0
        no_norm_text = g(z, e)
        assert torch.allclose(no_norm_text[0], no_norm_text[1])  # zero-initialised gamma/beta maps ignore text
        for stage in g.net.stages:
            torch.nn.init.normal_(stage.norm.gamma.weight, std=0.5)
            torch.nn.init.normal_(stage.norm.beta.weight, std=0.5)
        affine = g(z, e)
    assert not torch.allclose(affine[0], affine[1], atol=1e-5)


def test_projection_logit_is_affine_in_the_text_embedding_and_matches_its_closed_form():
    torch.manual_seed(2)
    d = build_discriminator(Text2ImageModelConfig(**TINY)).eval()
    x = torch.randn(3, 3, 8, 8)
    e1, e2 = torch.randn(3, 6), torch.randn(3, 6)
    with torch.no_grad():
        phi = d.blocks(x).flatten(1)  # (3, F)
        w = d.embed.weight  # spectral-normalised (F, text_dim)
        torch.testing.assert_close(d(x, e1), d.psi(phi).squeeze(1) + ((phi @ w) * e1).sum(1))
        torch.testing.assert_close(d(x, e1) - d(x, e2), (phi * ((e1 - e2) @ w.T)).sum(1))
        assert (d(x, e1) - d(x, e2)).abs().min() > 1e-6  # the text really moves the logit
        torch.testing.assert_close(d(x, e1) + d(x, e2), 2 * d(x, (e1 + e2) / 2))
        assert torch.linalg.matrix_norm(w, ord=2) == pytest.approx(1.0, abs=0.05)  # spectral norm on W


def test_mismatch_term_with_the_projection_critic_scores_real_images_with_rolled_text():
    torch.manual_seed(3)
    d = build_discriminator(Text2ImageModelConfig(**TINY)).eval()
    obj = Text2ImageObjective(z_dim=5, game="hinge", mismatch_weight=0.5)
    batch = {"image": torch.rand(3, 3, 8, 8) * 2 - 1, "tokens": tokens([1, 2], [3, 4], [5])}
    critic = obj.critic(d, batch)
    weight, loss = obj.discriminator_terms(batch, None, Turn(None, critic, critic(batch["image"])))["mismatch"]
    with torch.no_grad():
        wrong = d.encode(batch["tokens"]).roll(1, dims=0)
        expected = F.relu(1 + d(batch["image"], wrong)).mean()
    assert weight == 0.5
    torch.testing.assert_close(loss.detach(), expected)


def test_affine_generator_exports_to_onnx_with_parity(tmp_path):
    torch.manual_seed(4)
    run = HEAD.recipe("tiny")
    run.model = dataclasses.replace(run.model, fusion="affine", critic="projection", attribute_sizes=(),
                                    vocab=("a", "red", "circle", "blue", "square"))
    g = build_generator(run.model)
    g.train()
    g(torch.randn(8, run.model.z_dim), torch.randn(8, run.model.text_dim))  # move BN running stats off init
    card = export_generator(HEAD, run, g, tmp_path / "g.onnx")
    assert card["export"]["parity"]["max_abs_diff"] <= 1e-4
    z, e = torch.randn(3, run.model.z_dim), torch.randn(3, run.model.text_dim)
    got = ort.InferenceSession(str(tmp_path / "g.onnx")).run(None, {"z": z.numpy(), "embedding": e.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(got, g.eval()(z, e).numpy(), atol=1e-4)
