"""Conditional generator/discriminator variants and the AC-GAN objective terms."""

import pytest
import torch
import torch.nn.functional as F

from gan_app.apps.conditional.model import ConditionalDiscriminator, ConditionalGenerator, ConditionalModelConfig
from gan_app.apps.conditional.objective import ConditionalObjective
from gan_app.train.objective import Turn, Verdict


def _cfg(**kw):
    return ConditionalModelConfig(**{"num_classes": 3, "z_dim": 8, "g_width": 8, "d_width": 8, "embed_dim": 4,
                                     "resolution": 16, **kw})


@pytest.mark.parametrize("g", ["cbn", "concat"])
def test_generator_shapes_and_label_dependence(g):
    torch.manual_seed(0)
    gen = ConditionalGenerator(_cfg(g_conditioning=g, channels=3))
    with torch.no_grad():
        gen.net.blocks[0].norm.gamma.weight.normal_() if g == "cbn" else None  # CBN starts label-blind
    gen.eval()
    z = torch.randn(1, 8).expand(3, -1)
    out = gen(z, torch.tensor([0, 1, 2]))
    assert out.shape == (3, 3, 16, 16) and out.abs().max() <= 1
    assert not torch.allclose(out[0], out[1]) and not torch.allclose(out[1], out[2])


@pytest.mark.parametrize("kind", ["projection", "concat", "acgan"])
def test_discriminator_outputs(kind):
    d = ConditionalDiscriminator(_cfg(discriminator=kind))
    out = d(torch.randn(4, 1, 16, 16), torch.tensor([0, 1, 2, 0]))
    if kind == "acgan":
        assert out[0].shape == (4,) and out[1].shape == (4, 3)
    else:
        assert out.shape == (4,)
    with pytest.raises(ValueError, match="expects"):
        d(torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0]))


def test_projection_logit_is_linear_plus_class_inner_product():
    d = ConditionalDiscriminator(_cfg(spectral=False)).eval()
    x, y = torch.randn(2, 1, 16, 16), torch.tensor([2, 2])
    phi = d.body(x).flatten(1)
    want = d.head.linear(phi).squeeze(1) + (d.head.embed.weight[2] * phi).sum(1)
    torch.testing.assert_close(d(x, y), want)
    # the class enters only through <embed(y), phi>: switching class changes the logit by that difference
    delta = d(x, torch.tensor([0, 0])) - d(x, y)
    torch.testing.assert_close(delta, ((d.head.embed.weight[0] - d.head.embed.weight[2]) * phi).sum(1))


def test_acgan_terms_are_class_cross_entropies():
    torch.manual_seed(0)
    cfg = _cfg(discriminator="acgan", spectral=False)
    g, d = ConditionalGenerator(cfg), ConditionalDiscriminator(cfg).eval()
    obj = ConditionalObjective(cfg.z_dim, ac_weight=0.5)
    batch = {"image": torch.randn(4, 1, 16, 16), "label": torch.tensor([0, 1, 2, 1])}
    fake = obj.generate(g, batch)
    critic = obj.critic(d, batch)
    turn = Turn(g, critic, critic(batch["image"]), critic(fake))
    assert turn.d_fake.logits.shape == (4,) and turn.d_fake.extras["classes"].shape == (4, cfg.num_classes)
    weight, g_term = obj.generator_terms(batch, fake, turn)["class"]
    assert weight == 0.5
    torch.testing.assert_close(g_term, F.cross_entropy(d(fake, batch["label"])[1], batch["label"]))
    _, d_term = obj.discriminator_terms(batch, fake.detach(), turn)["class"]
    want = F.cross_entropy(d(batch["image"], batch["label"])[1], batch["label"]) + \
        F.cross_entropy(d(fake, batch["label"])[1], batch["label"])
    torch.testing.assert_close(d_term, want)
    # G's class term is read off the verdict it is handed, nothing kept from earlier calls
    other = torch.randn(4, cfg.num_classes)
    _, from_verdict = obj.generator_terms(batch, fake, Turn(g, critic, None, Verdict(turn.d_fake.logits, {"classes": other})))["class"]
    torch.testing.assert_close(from_verdict, F.cross_entropy(other, batch["label"]))


def test_non_acgan_objective_adds_no_terms():
    obj = ConditionalObjective(8)
    assert obj.generator_terms({}, None, Turn(None)) == {} and obj.discriminator_terms({}, None, Turn(None)) == {}


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="discriminator"):
        ConditionalDiscriminator(_cfg(discriminator="patch"))
    with pytest.raises(ValueError, match="class names"):
        ConditionalGenerator(_cfg(class_names=("a", "b")))


def test_default_recipe_reproduces_the_shipped_model():
    """README's reproduction command is the default recipe: it must build and train what ships."""
    import dataclasses
    import json

    from gan_app.apps.conditional.head import HEAD
    from gan_app.config import from_dict
    from gan_app.paths import weights_root
    from gan_app.stored import split_model

    card = json.loads((weights_root() / "conditional" / "conditional-v1.json").read_text())
    run = HEAD.recipe("default")
    # Read as a stored config: the card holds ac_weight in the model (from before the loss section), and a
    # field added since reads its default (the old behaviour).
    model, loss = split_model(card["model_config"], type(run.model), type(run.loss))
    shipped = dataclasses.asdict(from_dict(type(run.model), model))
    assert dataclasses.asdict(run.loss) == dataclasses.asdict(from_dict(type(run.loss), loss))
    without_names = lambda cfg: {k: v for k, v in cfg.items() if k != "class_names"}  # noqa: E731 - names come from the data
    assert without_names(dataclasses.asdict(run.model)) == without_names(shipped)
    assert run.train.steps == card["training"]["steps"]
    assert card["source_checkpoint"]["file"] == f"step_{run.train.steps:06d}.safetensors"


@pytest.mark.parametrize("kind", ["projection", "acgan"])
def test_minibatch_discrimination_lets_the_critic_see_the_rest_of_the_batch(kind):
    torch.manual_seed(0)
    images, labels = torch.randn(4, 1, 16, 16), torch.tensor([0, 1, 2, 0])
    others = images.clone()
    others[1:] = torch.randn(3, 1, 16, 16)
    first = lambda out: (out[0] if kind == "acgan" else out)[0]  # noqa: E731 - the first sample's logit
    plain = ConditionalDiscriminator(_cfg(discriminator=kind)).eval()
    torch.testing.assert_close(first(plain(images, labels)), first(plain(others, labels)))
    d = ConditionalDiscriminator(_cfg(discriminator=kind, minibatch_kernels=6)).eval()
    assert d.minibatch.T.shape == (d.minibatch.in_features, 6, 5)
    assert not torch.allclose(first(d(images, labels)), first(d(others, labels)))
    out, phi = d(images, labels, return_features=True)  # the features are D's conv map, before the layer
    assert phi.shape == (4, d.minibatch.in_features)
    torch.testing.assert_close(phi, d.body(images).flatten(1))
    with pytest.raises(ValueError, match="minibatch_kernels"):
        ConditionalDiscriminator(_cfg(discriminator="concat", minibatch_kernels=6))


def test_critic_verdict_carries_the_features_for_feature_matching():
    d = ConditionalDiscriminator(_cfg(discriminator="concat")).eval()  # eval: no power iteration between calls
    images, labels = torch.randn(3, 1, 16, 16), torch.tensor([0, 1, 2])
    verdict = ConditionalObjective(8).critic(d, {"label": labels})(images)
    torch.testing.assert_close(verdict.logits, d(images, labels))
    assert verdict.extras["features"].shape == (3, d.body.feature_dim)


@pytest.mark.parametrize("g", ["cbn", "concat"])
def test_virtual_batch_norm_generator_renders_each_sample_alone_in_train_and_eval(g):
    torch.manual_seed(0)
    gen = ConditionalGenerator(_cfg(g_conditioning=g, virtual_bn=6))
    torch.testing.assert_close(gen.reference_z, ConditionalGenerator(_cfg(g_conditioning=g, virtual_bn=6)).reference_z)
    assert gen.reference_z.shape == (6, 8) and gen.reference_labels.tolist() == [0, 1, 2, 0, 1, 2]
    z, labels = torch.randn(4, 8), torch.tensor([0, 1, 2, 0])
    others = z.clone()
    others[1:] = torch.randn(3, 8) * 3
    out = gen(z, labels)
    torch.testing.assert_close(out[0], gen(others, labels)[0])
    torch.testing.assert_close(out[:1], gen(z[:1], labels[:1]))
    plain = ConditionalGenerator(_cfg(g_conditioning=g))
    plain.load_state_dict({k: v for k, v in gen.state_dict().items() if k in plain.state_dict()}, strict=False)
    assert not torch.allclose(plain(z, labels)[0], out[0])  # batch statistics would mix the samples
    gen.eval()  # the statistics the reference batch recorded: the same images
    torch.testing.assert_close(gen(z, labels), out.detach())
