"""Distillation (`train.teacher`): the self-ensembled teacher, loading it, and how the engine weighs its target."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_app.apps.deblur.head import HEAD as DEBLUR
from gan_app.apps.deblur.model import DeblurModelConfig, build_generator
from gan_app.config import apply_overrides
from gan_app.errors import UserError
from gan_app.paths import shipped_model
from gan_app.runtime.ensemble import transform, undo
from gan_app.train import distributed
from gan_app.train.loop import Trainer, fit
from gan_app.train.teacher import Teacher, dihedral, load_teacher_generator, undo_dihedral


def _acting_generator() -> torch.nn.Module:
    """A tiny deblur generator whose weights act (its head is not the identity init), so it is not mirror-equivariant."""
    torch.manual_seed(0)
    g = build_generator(DeblurModelConfig(width=8, blocks=1, levels=3, upsample="transpose"))
    torch.nn.init.normal_(g.head.weight, std=0.2)
    return g.eval()


def _deblur_run(*overrides: str):
    return apply_overrides(DEBLUR.recipe("tiny"), ["train.device=cpu", "train.sample_every=0", *overrides])


def test_dihedral_numbers_the_transforms_as_the_runtime_ensemble_and_undoes_them():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    for k in range(8):
        np.testing.assert_array_equal(dihedral(x, k).numpy(), transform(x.numpy(), k))
        np.testing.assert_array_equal(undo_dihedral(dihedral(x, k), k).numpy(), undo(transform(x.numpy(), k), k))
        assert torch.equal(undo_dihedral(dihedral(x, k), k), x)


def test_teacher_averages_its_generator_over_the_first_transforms_without_gradient():
    g = _acting_generator()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        runs = [undo_dihedral(g(dihedral(x, k)), k) for k in range(4)]
        one = g(x)
    taught = Teacher(g, 4)(x)
    torch.testing.assert_close(taught, torch.stack(runs).mean(0))
    assert float((taught - one).abs().max()) > 1e-4          # the mirrors change this generator's output
    torch.testing.assert_close(Teacher(g, 1)(x), one)
    assert not taught.requires_grad
    with pytest.raises(UserError, match="teacher_ensemble must be one of 1, 2, 4, 8"):
        Teacher(g, 3)


def test_teacher_loads_from_a_checkpoint_and_from_an_onnx_export_as_the_same_function(tmp_path):
    from gan_app.checkpoint import load_generator
    from gan_app.export import export_generator

    ckpt = fit(DEBLUR, _deblur_run("train.steps=1", "train.lr_g=1e-2"), tmp_path / "run")
    _, run, trained = load_generator(ckpt)
    export_generator(DEBLUR, run, trained, tmp_path / "g.onnx")
    x = torch.rand(1, 3, 32, 40)
    for path in (ckpt, tmp_path / "g.onnx"):
        teacher = load_teacher_generator(path, DEBLUR)
        assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
        torch.testing.assert_close(teacher(x), trained(x), atol=1e-6, rtol=0)
    with pytest.raises(UserError, match="not found"):
        load_teacher_generator(tmp_path / "missing.onnx", DEBLUR)
    with pytest.raises(UserError, match="is a superres model, not deblur"):
        load_teacher_generator(shipped_model("superres", "x2-psnr"), DEBLUR)
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(UserError, match="not a readable ONNX model"):
        load_teacher_generator(tmp_path / "junk.onnx", DEBLUR)


def test_engine_weighs_each_content_term_between_ground_truth_and_teacher(tmp_path):
    """Teacher = the student's own start, one transform: the distilled terms are ~0 (Charbonnier's eps), the
    ground-truth terms are not, and the total is (1 - share) x ground truth + share x teacher, per term."""
    start = fit(DEBLUR, _deblur_run("train.steps=1", "train.lr_g=1e-2", "train.ema_decay=0"), tmp_path / "start")
    share = 0.25
    run = _deblur_run("train.adv_weight=0", "train.ema_decay=0", f"train.init_from={start}", f"train.teacher={start}",
                      "train.teacher_ensemble=1", f"train.teacher_share={share}")
    trainer = Trainer(DEBLUR, run, tmp_path / "distill", distributed.DistEnv(), torch.device("cpu"))
    batch = next(trainer.stream)
    terms = trainer.g_step(batch, trainer.obj.generate(trainer.G, batch))
    weights = {"charbonnier": run.loss.content_weight, "frequency_l1": run.loss.fft_weight}
    assert float(terms["G/distill/charbonnier"]) < 2e-3 < float(terms["G/charbonnier"])
    expected = sum(w * ((1 - share) * float(terms[f"G/{name}"]) + share * float(terms[f"G/distill/{name}"]))
                   for name, w in weights.items() if w)
    assert float(terms["G/total"]) == pytest.approx(expected, rel=1e-5)

    from gan_app.export import export_checkpoint

    distilled = fit(DEBLUR, run, tmp_path / "distilled")
    card = export_checkpoint("deblur", distilled, tmp_path / "d.onnx")
    assert card["training"]["distillation"].startswith(f"teacher {start.name} averaged over 1 flips")
    assert "distillation" not in export_checkpoint("deblur", start, tmp_path / "s.onnx")["training"]

    mirrored = _deblur_run("train.adv_weight=0", "train.ema_decay=0", f"train.init_from={start}",
                           f"train.teacher={start}", "train.teacher_ensemble=4")
    trainer = Trainer(DEBLUR, mirrored, tmp_path / "mirrored", distributed.DistEnv(), torch.device("cpu"))
    batch = next(trainer.stream)
    assert float(trainer.g_step(batch, trainer.obj.generate(trainer.G, batch))["G/distill/charbonnier"]) > 2e-3


def test_a_head_without_target_images_cannot_distill(tiny_run, tmp_path):
    from gan_app.apps.toy.head import HEAD as TOY

    start = fit(TOY, tiny_run(steps=1), tmp_path / "start")
    trainer = Trainer(TOY, tiny_run(steps=1, teacher=str(start)), tmp_path / "t", distributed.DistEnv(), torch.device("cpu"))
    batch = next(trainer.stream)
    with pytest.raises(UserError, match="needs a paired head"):
        trainer.g_step(batch, trainer.obj.generate(trainer.G, batch))
