"""The engine on tiny toy runs: resume bit for bit, failure handling, step structure, outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_app.apps.toy.head import HEAD, ToyHead
from gan_app.apps.toy.model import ToyObjective
from gan_app.checkpoint import checkpoint_path, list_checkpoints, read_checkpoint
from gan_app.config import to_dict
from gan_app.errors import UserError
from gan_app.losses.adversarial import get_game
from gan_app.train import distributed
from gan_app.train.logging import read_metrics
from gan_app.train.loop import Trainer, TrainingDiverged, _scales, fit
from gan_app.train.objective import Verdict


def _same_tensors(a: Path, b: Path) -> None:
    ta, tb = read_checkpoint(a)[0], read_checkpoint(b)[0]
    assert set(ta) == set(tb)
    for name in ta:
        assert torch.equal(ta[name], tb[name]), name


class HookedHead(ToyHead):
    """The toy head with extra generator terms from `term(call_index, fake, batch)`, D's output mapped by `logits`."""

    def __init__(self, term, logits=None):
        self.term, self.logits = term, logits

    def objective(self, run):
        head = self

        class Objective(ToyObjective):
            calls = 0

            def generator_terms(self, batch, fake, turn):
                Objective.calls += 1
                return head.term(Objective.calls - 1, fake, batch)

            def critic(self, discriminator, batch):
                def judge(images):
                    out = discriminator(images)
                    return Verdict(head.logits(out) if head.logits else out)
                return judge

        return Objective(run.data)


def test_resume_continues_bit_for_bit_and_seed_reproduces(tiny_run, tmp_path):
    run = tiny_run(steps=12, ckpt_every=6, keep_last=0, n_critic=2, lr_schedule="linear", r1_weight=1.0,
                   ema_decay=0.8, log_every=3)
    straight = fit(HEAD, run, tmp_path / "a")
    assert straight == checkpoint_path(tmp_path / "a", 12)
    again = fit(HEAD, run, tmp_path / "again")
    _same_tensors(straight, again)  # reproducible with the seed

    resumed_dir = tmp_path / "b"
    (resumed_dir / "checkpoints").mkdir(parents=True)
    shutil.copy(checkpoint_path(tmp_path / "a", 6), checkpoint_path(resumed_dir, 6))
    shutil.copy(tmp_path / "a" / "metrics.jsonl", resumed_dir / "metrics.jsonl")  # holds lines past step 6
    resumed = fit(HEAD, run, resumed_dir, resume=True)
    _same_tensors(straight, resumed)  # G, G_ema, D and both optimizers' states
    drop = {"it_s"}
    strip = lambda recs: [{k: v for k, v in r.items() if k not in drop} for r in recs]  # noqa: E731
    assert strip(read_metrics(resumed_dir / "metrics.jsonl")) == strip(read_metrics(tmp_path / "a" / "metrics.jsonl"))

    other_seed = fit(HEAD, tiny_run(steps=12, ckpt_every=6, seed=1), tmp_path / "c")
    assert not torch.equal(read_checkpoint(other_seed)[0]["G.0.weight"], read_checkpoint(straight)[0]["G.0.weight"])


def test_resume_needs_a_checkpoint_and_the_same_model(tiny_run, tmp_path):
    with pytest.raises(UserError, match="no checkpoint"):
        fit(HEAD, tiny_run(steps=2), tmp_path, resume=True)
    fit(HEAD, tiny_run(steps=2), tmp_path)
    wider = tiny_run(steps=4)
    wider.model.width = 20
    with pytest.raises(UserError, match="model config differs"):
        fit(HEAD, wider, tmp_path, resume=True)


def test_resume_accepts_a_checkpoint_written_before_a_model_field_existed(tiny_run, tmp_path):
    """A model config field added in a later version, left at its default, is not a different model."""
    from safetensors.torch import save_file

    from gan_app.apps.toy.config import ToyModelConfig
    from gan_app.checkpoint import META_KEY

    def run(steps):
        r = tiny_run(steps=steps, ckpt_every=2)
        r.model.depth = ToyModelConfig().depth  # at its default
        return r

    first = fit(HEAD, run(2), tmp_path)
    tensors, meta = read_checkpoint(first)
    del meta["run"]["model"]["depth"]  # as if `depth` did not exist when the checkpoint was written
    save_file(tensors, str(first), metadata={META_KEY: json.dumps(meta)})
    assert fit(HEAD, run(4), tmp_path, resume=True) == checkpoint_path(tmp_path, 4)
    meta["run"]["model"]["depth"] = ToyModelConfig().depth + 1
    save_file(tensors, str(checkpoint_path(tmp_path, 4)), metadata={META_KEY: json.dumps(meta)})
    with pytest.raises(UserError, match="model config differs"):
        fit(HEAD, run(6), tmp_path, resume=True)

def test_nan_stops_with_the_term_and_step_and_keeps_the_last_good_checkpoint(tiny_run, tmp_path):
    def term(call, fake, batch):
        bad = torch.tensor(float("nan") if call == 7 else 0.0)
        return {"bad": (1.0, bad)}

    with pytest.raises(TrainingDiverged, match=r"G/bad = nan at step 8.*step_000005") as info:
        fit(HookedHead(term), tiny_run(steps=20, ckpt_every=5), tmp_path)
    assert isinstance(info.value, UserError)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_000005.safetensors"]
    tensors, meta = read_checkpoint(checkpoint_path(tmp_path, 5))
    assert meta["step"] == 5 and all(torch.isfinite(t).all() for t in tensors.values() if t.is_floating_point())


def test_ctrl_c_writes_a_checkpoint_then_reraises(tiny_run, tmp_path):
    def term(call, fake, batch):
        if call == 3:
            raise KeyboardInterrupt
        return {}

    with pytest.raises(KeyboardInterrupt):
        fit(HookedHead(term), tiny_run(steps=20, ckpt_every=100), tmp_path)
    [path] = list_checkpoints(tmp_path)
    meta = read_checkpoint(path)[1]
    assert meta["step"] == 3 and meta["interrupted"] is True


def test_content_only_pretraining_has_no_discriminator(tiny_run, tmp_path):
    def l1(call, fake, batch):
        return {"l1": (1.0, (fake - 1.0).abs().mean())}  # content target: every point at (1, 1)

    run = tiny_run(steps=60, adv_weight=0.0, lr_g=3e-3, log_every=10, ema_decay=0.0)
    path = fit(HookedHead(l1), run, tmp_path)
    tensors, meta = read_checkpoint(path)
    assert not any(k.startswith(("D.", "opt_d.", "G_ema.")) for k in tensors)
    log = [r for r in read_metrics(tmp_path / "metrics.jsonl") if "G/l1" in r]
    assert not any(k.startswith("D/") for r in log for k in r)
    assert log[-1]["G/l1"] < 0.5 * log[0]["G/l1"]

    # GAN fine-tuning starts from the pretrained G (with lr_g = 0 it stays exactly there).
    finetune = tiny_run(steps=2, init_from=str(path), lr_g=0.0, ema_decay=0.0)
    tuned = read_checkpoint(fit(HEAD, finetune, tmp_path / "ft"))[0]
    assert all(torch.equal(tuned[k], tensors[k]) for k in tensors if k.startswith("G."))


def test_g_step_freezes_d_and_d_step_unfreezes_it(tiny_run, tmp_path):
    trainer = Trainer(HEAD, tiny_run(), tmp_path, distributed.DistEnv(), torch.device("cpu"))
    batch = next(trainer.stream)
    before = [p.detach().clone() for p in trainer.D_raw.parameters()]
    trainer.g_step(batch, trainer.obj.generate(trainer.G, batch))
    assert all(not p.requires_grad and p.grad is None for p in trainer.D_raw.parameters())
    assert all(torch.equal(a, p) for a, p in zip(before, trainer.D_raw.parameters()))
    terms = trainer.d_step(batch, trainer.obj.generate(trainer.G, batch).detach())
    assert all(p.requires_grad for p in trainer.D_raw.parameters())
    assert not all(torch.equal(a, p) for a, p in zip(before, trainer.D_raw.parameters()))
    assert set(terms) == {"D/adv", "D/r1", "D/total"}
    torch.testing.assert_close(terms["D/total"], terms["D/adv"] + trainer.cfg.r1_weight / 2 * terms["D/r1"])


def test_wgan_recipe_n_critic_and_clipping(tiny_run, tmp_path):
    run = tiny_run(steps=4, loss="wgan", optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, clip=0.01, n_critic=5,
                   r1_weight=0.0, ema_decay=0.0)
    tensors, meta = read_checkpoint(fit(HEAD, run, tmp_path))
    d = [t for k, t in tensors.items() if k.startswith("D.")]
    assert max(t.abs().max().item() for t in d) <= 0.01 + 1e-9
    assert tensors["opt_d.state.0.step"].item() == 20 and tensors["opt_g.state.0.step"].item() == 4
    assert "opt_d.state.0.square_avg" in tensors  # RMSProp state
    assert meta["run"]["train"]["n_critic"] == 5


def test_grad_clip_reaches_both_players_updates(tiny_run, tmp_path):
    """A bound far under Adam's epsilon (1e-8) leaves both players where they started; without it they move ~lr.
    (The same seed gives the same start; a run at lr 0 records it.)"""
    def weights(out: str, **train) -> dict[str, torch.Tensor]:
        tensors = read_checkpoint(fit(HEAD, tiny_run(steps=1, ema_decay=0.0, **train), tmp_path / out))[0]
        return {k: t for k, t in tensors.items() if k[:2] in ("G.", "D.") and k.endswith("weight")}

    start = weights("start", lr_g=0.0, lr_d=0.0)
    free = weights("free", lr_g=1e-2, lr_d=1e-2)
    clipped = weights("clipped", lr_g=1e-2, lr_d=1e-2, grad_clip=1e-14)
    for player in ("G.", "D."):
        names = [k for k in start if k.startswith(player)]
        assert names
        assert max((free[k] - start[k]).abs().max().item() for k in names) > 1e-3, player
        assert max((clipped[k] - start[k]).abs().max().item() for k in names) < 1e-4, player


def test_multiscale_logits_average_the_game(tiny_run, tmp_path):
    game = get_game("nonsaturating")
    r = [torch.randn(4, 1), torch.randn(4, 1, 3, 3)]
    f = [torch.randn(4, 1), torch.randn(4, 1, 3, 3)]
    expected = (game.d_loss(r[0], f[0]) + game.d_loss(r[1], f[1])) / 2
    torch.testing.assert_close(_scales(game.d_loss, r, f, label_smoothing=1.0), expected)
    torch.testing.assert_close(_scales(game.g_loss, f, None), (game.g_loss(f[0]) + game.g_loss(f[1])) / 2)

    head = HookedHead(lambda call, fake, batch: {}, logits=lambda out: [out, 2 * out])
    fit(head, tiny_run(steps=3, log_every=1), tmp_path)
    assert all(r_["D/r1"] > 0 for r_ in read_metrics(tmp_path / "metrics.jsonl"))


def test_run_folder_layout_log_terms_and_ttur_schedule(tiny_run, tmp_path):
    run = tiny_run(steps=20, lr_g=1e-3, lr_d=3e-3, lr_schedule="linear", log_every=5, sample_every=10,
                   ckpt_every=5, keep_last=2)
    final = fit(HEAD, run, tmp_path)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_000015.safetensors", "step_000020.safetensors"]
    assert final == list_checkpoints(tmp_path)[-1]
    assert json.loads((tmp_path / "config.json").read_text()) == json.loads(json.dumps(to_dict(run)))
    for name in ("samples/step_000010.png", "samples/step_000020.png", "losses.png"):
        with Image.open(tmp_path / name) as im:
            assert im.format == "PNG"
    log = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in log] == [5, 10, 15, 20]
    assert {"G/adv", "G/total", "D/adv", "D/r1", "D/total", "lr_g", "lr_d", "it_s"} <= set(log[0])
    for r in log:  # the rate used for step index s-1 is base * (steps - (s - 1)) / steps
        assert r["lr_g"] == pytest.approx(1e-3 * (21 - r["step"]) / 20)
        assert r["lr_d"] == pytest.approx(3e-3 * (21 - r["step"]) / 20)
    meta = read_checkpoint(final)[1]
    assert meta["metrics"]["train"]["G/adv"] == log[-1]["G/adv"]
    assert meta["data"] == {"epoch": 1, "position": 4}  # 16 batches per epoch, 20 steps


def test_bad_train_config_is_rejected_before_work(tiny_run, tmp_path):
    with pytest.raises(UserError, match="decay_start"):
        fit(HEAD, tiny_run(steps=5, lr_schedule="linear", decay_start=5), tmp_path)
    with pytest.raises(UserError, match="unknown adversarial loss"):
        fit(HEAD, tiny_run(loss="nope"), tmp_path)
    assert not (tmp_path / "checkpoints").exists()


class PreparingHead(ToyHead):
    """The toy head whose `prepare` zeroes G's weights (a stand-in pretraining stage) and counts calls."""

    calls = 0

    def prepare(self, run, generator, discriminator, dataset):
        PreparingHead.calls += 1
        assert len(dataset) == run.data.size and discriminator is not None
        with torch.no_grad():
            for p in generator.parameters():
                p.zero_()


def test_prepare_runs_once_on_fresh_runs_before_the_ema_copy_not_on_resume_or_init_from(tiny_run, tmp_path):
    head = PreparingHead()
    run = tiny_run(steps=2, ckpt_every=2, lr_g=0.0, ema_decay=0.5, ema_start=0)
    first = fit(head, run, tmp_path / "a")
    assert PreparingHead.calls == 1
    tensors = read_checkpoint(first)[0]
    g_like = [k for k in tensors if k.startswith(("G.", "EMA.", "G_ema."))]
    assert g_like and all(not tensors[k].is_floating_point() or torch.count_nonzero(tensors[k]) == 0 for k in g_like)

    run.train.steps = 4
    fit(head, run, tmp_path / "a", resume=True)  # the checkpoint already holds the prepared weights
    fit(head, tiny_run(steps=2, init_from=str(first)), tmp_path / "b")  # so does the start checkpoint
    assert PreparingHead.calls == 1


@pytest.mark.parametrize("bn_batches", [0, 3])
def test_saved_ema_generator_has_its_own_batch_norm_statistics(tmp_path, bn_batches):
    from gan_app.apps.conditional.head import HEAD as CONDITIONAL
    from gan_app.config import apply_overrides

    run = apply_overrides(CONDITIONAL.recipe("tiny"), ["train.device=cpu", "train.ema_start=0", "train.ema_decay=0.5",
                                                       f"train.ema_bn_batches={bn_batches}"])
    tensors = read_checkpoint(fit(CONDITIONAL, run, tmp_path))[0]
    stats = [k for k in tensors if k.startswith("G.") and k.endswith("running_mean")]
    assert stats
    same = [torch.equal(tensors[k], tensors["G_ema." + k[2:]]) for k in stats]
    assert all(same) if bn_batches == 0 else not any(same)


def test_a_run_folder_holds_one_run(tiny_run, tmp_path):
    """A second run into a used folder is refused (it would mix checkpoints, metrics and pruning);
    --resume continues it, --overwrite clears it first; nothing outside the run's files is touched."""
    out = tmp_path / "run"
    fit(HEAD, tiny_run(steps=2), out)
    (out / "notes.txt").write_text("mine")
    before = sorted(p.name for p in (out / "checkpoints").iterdir())
    with pytest.raises(UserError, match="already holds a run .*--resume.*--overwrite"):
        fit(HEAD, tiny_run(steps=2, lr_g=1e-2), out)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == before
    assert fit(HEAD, tiny_run(steps=3), out, resume=True).name == "step_000003.safetensors"
    fit(HEAD, tiny_run(steps=1, ckpt_every=1), out, overwrite=True)
    assert [p.name for p in list_checkpoints(out)] == ["step_000001.safetensors"]
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("field, value", [("cpu_threads", 100_000), ("cpu_threads", -1), ("num_workers", 10_000)])
def test_thread_and_worker_counts_are_bounded_before_any_work(tiny_run, tmp_path, field, value):
    with pytest.raises(UserError, match="cpu_threads and num_workers must be between 0 and"):
        fit(HEAD, tiny_run(**{field: value}), tmp_path)
    assert not tmp_path.joinpath("config.json").exists()
