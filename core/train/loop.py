"""The one GAN training engine: `fit(head, run, out_dir, resume=False)`.

Every head trains here; a head only supplies models, data and a `GanObjective`. Per
generator step, top to bottom:

    reseed every RNG from (seed, rank, step); set the scheduled learning rates
    D step(s): n_critic fresh batches, each: G forward, the head's critic (D bound to the batch)
      judges real and fake, D loss = game + penalties + head terms (handed those verdicts)
    freeze D; G step: the frozen critic judges the fake, adv_weight * game.g_loss + the head's
      weighted terms (handed that verdict; with `train.teacher`, the head's terms also against a frozen
      teacher's self-ensembled output, gan_app.train.teacher); EMA update
    optional in both steps (train.feature_matching_weight, train.historical_averaging_weight):
      the Salimans et al. terms of `gan_app.train.salimans`
    check every term is finite; log, sample, evaluate, checkpoint on schedule (rank 0)

`adv_weight == 0` is content-only pretraining: no D is trained (or saved) at all.

Run folder: config.json, metrics.jsonl, samples/step_000100.png,
checkpoints/step_000100.safetensors (keep-last-N), losses.png.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch

from gan_app.checkpoint import checkpoint_path, latest_checkpoint, prune_checkpoints
from gan_app.build import check_model_config
from gan_app.config import SECTIONS, RunConfig, TrainConfig, check_section, to_dict
from gan_app.errors import UserError
from gan_app.limits import max_threads
from gan_app.runtime.files import check_folder, writing
from gan_app.train import distributed
from gan_app.train.batches import BatchStream, batch_of, fixed_batch
from gan_app.train.devices import Precision, maybe_compile, place_module, resolve_amp
from gan_app.train.ema import EMA
from gan_app.train.logging import MetricsLog, Progress, TermMeter, plot_losses, save_grid, summary
from gan_app.train.objective import Turn
from gan_app.train.optim import OPTIMIZERS, SCHEDULES, build_optimizer, lr_factor, set_lr
from gan_app.train.salimans import History, feature_matching_term
from gan_app.train.seeding import seed_all, seed_step
from gan_app.train.state import load_start_weights, restore_training, save_training
from gan_app.train.teacher import DISTILL_PREFIX, Teacher, load_teacher_generator


class TrainingDiverged(UserError):
    """A loss term became NaN or infinite; no checkpoint is written after it."""


RUN_FILES = ("config.json", "metrics.jsonl", "checkpoints", "samples")   # what a run writes into its folder


def fit(head: Any, run: RunConfig, out_dir: str | Path, resume: bool = False, overwrite: bool = False) -> Path:
    """Train `head` with `run` into `out_dir`; returns the final checkpoint's path.

    `resume` continues from the newest checkpoint in `out_dir` (bit for bit on CPU; `run` may change
    every section but the model, and each change is named on stderr). A folder
    that already holds a run is refused otherwise (one run per folder: checkpoints, metrics
    and pruning never mix); `overwrite` deletes that run's files first.
    Under torchrun every process calls this; only rank 0 writes files.
    """
    check_train_config(run.train)
    check_run_config(head, run)
    check_run_folder(Path(out_dir), resume, overwrite)
    threads = torch.get_num_threads()
    if run.train.cpu_threads:
        torch.set_num_threads(run.train.cpu_threads)
    env, device = distributed.setup(run.train.device)
    try:
        trainer = Trainer(head, run, Path(out_dir), env, device, resume)
        if resume:
            trainer.resume()
        return trainer.train()
    finally:
        distributed.shutdown(env)
        torch.set_num_threads(threads)


def check_run_folder(out_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse an `out_dir` that is a file (or /dev/null) or not writable, and a new run in a folder holding
    another one, unless `overwrite` (which clears it)."""
    check_folder(out_dir, "--out")
    present = [name for name in RUN_FILES if (out_dir / name).exists()]
    if resume or not present:
        return
    if not overwrite:
        raise UserError(f"run folder {out_dir} already holds a run ({', '.join(present)}); pass --resume to continue "
                        "it, --overwrite to delete it and start over, or choose another --out")
    for name in present:
        path = out_dir / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def check_train_config(cfg: TrainConfig) -> None:
    """Reject impossible settings before any work is done."""
    problems = []
    if cfg.steps < 1 or cfg.batch_size < 1 or cfg.n_critic < 1:
        problems.append("steps, batch_size and n_critic must be >= 1")
    if not 0 <= cfg.cpu_threads <= max_threads() or not 0 <= cfg.num_workers <= max_threads():
        problems.append(f"cpu_threads and num_workers must be between 0 and {max_threads()} (4x this machine's cores)")
    if cfg.optimizer not in OPTIMIZERS or cfg.lr_schedule not in SCHEDULES:
        problems.append(f"optimizer must be one of {OPTIMIZERS} and lr_schedule one of {SCHEDULES}")
    if cfg.lr_schedule in ("linear", "cosine") and not 0 <= cfg.decay_start < cfg.steps:
        problems.append(f"decay_start must be in [0, steps) for the {cfg.lr_schedule} schedule, got {cfg.decay_start}")
    if not 0.0 <= cfg.ema_decay < 1.0:
        problems.append(f"ema_decay must be in [0, 1) (0 = off), got {cfg.ema_decay}")
    if min(cfg.adv_weight, cfg.gp_weight, cfg.r1_weight, cfg.clip, cfg.lr_g, cfg.lr_d, cfg.seed, cfg.cpu_threads) < 0:
        problems.append("weights, learning rates, clip, seed and cpu_threads must be >= 0")
    if problems:
        raise UserError("bad train config: " + "; ".join(problems))


def check_run_config(head: Any, run: RunConfig) -> None:
    """Every field of `run` in its rules (`gan_app.config`), and a model config `head` can build
    (tried on the meta device): one-line UserErrors naming the field, before any work is done."""
    for section in SECTIONS:
        check_section(getattr(run, section), section)
    check_model_config(head, run.model)


def _scales(fn: Any, first: Any, second: Any, **kwargs: Any) -> torch.Tensor:
    """`fn` averaged over the scales of a multi-scale critic (plain tensors: one scale)."""
    if not isinstance(first, (list, tuple)):
        return fn(first, second, **kwargs)
    seconds = second if isinstance(second, (list, tuple)) else [second] * len(first)
    return torch.stack([fn(a, b, **kwargs) for a, b in zip(first, seconds)]).mean()


def _combine(player: str, parts: dict[str, tuple[float, torch.Tensor]]) -> tuple[torch.Tensor, dict]:
    """(weighted total, {"P/name": unweighted detached value, "P/total": total})."""
    if not parts:
        raise UserError("adv_weight is 0 and the head adds no generator terms: nothing would be trained")
    for name, (_, value) in parts.items():
        if value.dim() != 0:
            raise ValueError(f"loss term {player}/{name} must be a scalar tensor, got shape {tuple(value.shape)}")
    total = sum(weight * value for weight, value in parts.values())
    logged = {f"{player}/{name}": value.detach() for name, (_, value) in parts.items()}
    logged[f"{player}/total"] = total.detach()
    return total, logged


class Trainer:
    """The state of one run (models, optimizers, data position) and its step functions."""

    def __init__(self, head: Any, run: RunConfig, out_dir: Path, env: distributed.DistEnv, device: torch.device,
                 resume: bool = False) -> None:
        from gan_app.losses.adversarial import get_game

        cfg = run.train
        self.head, self.run, self.cfg, self.out_dir, self.env, self.device = head, run, cfg, out_dir, env, device
        self.adversarial = cfg.adv_weight > 0
        self.game = get_game(cfg.loss) if self.adversarial else None
        dataset = head.dataset(run, "train")
        run.model = head.complete_model(run, dataset)  # the data's class names, vocabulary, ... before the build
        seed_all(cfg.seed)  # identical initial weights on every rank
        g, d = head.build(run.model)
        self.G_raw = place_module(distributed.sync_batchnorm(g, env, device, cfg.sync_bn), device, cfg.channels_last)
        self.D_raw = place_module(distributed.sync_batchnorm(d, env, device, cfg.sync_bn), device, cfg.channels_last) if self.adversarial else None
        if cfg.init_from:
            load_start_weights(cfg.init_from, self.G_raw, self.D_raw, widen=cfg.init_widen)
        elif not resume:
            head.prepare(run, self.G_raw, self.D_raw, dataset)
        self.teacher = Teacher(place_module(load_teacher_generator(cfg.teacher, head), device, cfg.channels_last),
                               cfg.teacher_ensemble) if cfg.teacher else None
        self.ema = EMA(self.G_raw, cfg.ema_decay, cfg.ema_start) if cfg.ema_decay > 0 else None
        weight = cfg.historical_averaging_weight
        self.history = History(weight, {"G": self.G_raw, "D": self.D_raw}) if weight > 0 else None
        self.opt_g = build_optimizer(self.G_raw.parameters(), cfg.lr_g, cfg)
        self.opt_d = build_optimizer(self.D_raw.parameters(), cfg.lr_d, cfg) if self.adversarial else None
        self.precision = Precision(device, resolve_amp(cfg.amp, device))
        self.G = maybe_compile(distributed.wrap(self.G_raw, env, device), cfg.compile)
        if self.adversarial:
            # torch.compile has no double backward, which R1 and the gradient penalty need.
            compile_d = cfg.compile and cfg.gp_weight == 0 and cfg.r1_weight == 0
            self.D = maybe_compile(distributed.wrap(self.D_raw, env, device), compile_d)
            # The D the G step calls: D without DDP's wrapper (the G step freezes D, so no gradient of
            # D's is synced); the same object as self.D in one process.
            self.D_unsynced = maybe_compile(self.D_raw, compile_d) if env.enabled else self.D
        self.obj = head.objective(run)
        self.stream = BatchStream(dataset, cfg.batch_size, cfg.seed, env, device,
                                  num_workers=cfg.num_workers, channels_last=cfg.channels_last)
        self.sample_batch = self.stream.to_device(fixed_batch(dataset, self.obj.sample_size)) if env.is_main else None
        self.step = 0
        self.metrics: dict = {}
        self.log = MetricsLog(out_dir / "metrics.jsonl")
        self.meter = TermMeter()
        self.shown: dict[str, float] = {}
        self._clock = (0.0, 0)  # (time, step) of the last log line, for it/s

    # --- one generator step, top to bottom ------------------------------------------------

    def iteration(self) -> dict[str, torch.Tensor]:
        """D step(s) then G step for generator step `self.step`; the detached loss terms."""
        cfg = self.cfg
        seed_step(cfg.seed, self.env.rank, self.step, self.device)
        factor = lr_factor(self.step, cfg)
        set_lr(self.opt_g, cfg.lr_g * factor)
        terms: dict[str, torch.Tensor] = {}
        rounds = cfg.n_critic if self.adversarial else 1
        for i in range(rounds):
            batch = next(self.stream)
            with torch.set_grad_enabled(i == rounds - 1), self.precision.autocast():
                fake = self.obj.generate(self.G, batch)  # the G step reuses the last round's fake
            if self.adversarial:
                set_lr(self.opt_d, cfg.lr_d * factor)
                for name, value in self.d_step(batch, fake.detach()).items():
                    terms[name] = terms.get(name, 0.0) + value / rounds
        terms.update(self.g_step(batch, fake))
        return terms

    def d_step(self, batch: dict, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """One discriminator update on `batch` against the detached `fake`."""
        from gan_app.losses.regularizers import clip_weights_, gradient_penalty, r1_penalty

        cfg, obj = self.cfg, self.obj
        self.D_raw.requires_grad_(True)
        real = obj.real(batch)
        if cfg.r1_weight > 0:
            real = real.detach().requires_grad_(True)  # R1 differentiates D(real) w.r.t. real
        with self.precision.autocast():
            critic = obj.critic(self.D, batch)  # images -> Verdict, for this step
            d_real, d_fake = critic(real), critic(fake)
            parts = {"adv": (1.0, _scales(self.game.d_loss, d_real.logits, d_fake.logits, label_smoothing=cfg.label_smoothing))}
            if cfg.gp_weight > 0:
                parts["gp"] = (cfg.gp_weight, gradient_penalty(lambda x: critic(x).logits, real.detach(), fake))
            if cfg.r1_weight > 0:
                parts["r1"] = (cfg.r1_weight / 2, r1_penalty(d_real.logits, real))  # gamma/2 E||grad D(x)||^2
            parts.update(obj.discriminator_terms(batch, fake, Turn(self.G, critic, d_real, d_fake)))
            if self.history is not None:
                parts.update(self.history.term("D"))
        loss, logged = _combine("D", parts)
        self.precision.step(loss, self.opt_d, cfg.grad_clip)
        if cfg.clip > 0:
            clip_weights_(self.D_raw, cfg.clip)
        if self.history is not None:
            self.history.update("D")
        return logged

    def g_step(self, batch: dict, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """One generator update through the frozen D, plus the head's weighted terms."""
        cfg, obj = self.cfg, self.obj
        parts, turn = {}, Turn(self.G)  # no D in content-only pretraining
        with self.precision.autocast():
            if self.adversarial:
                self.D_raw.requires_grad_(False)  # freeze D: G's backward leaves D's grads alone
                critic = obj.critic(self.D_unsynced, batch)
                d_fake, d_real = critic(fake), None
                if self.game.uses_real_in_g or cfg.feature_matching_weight > 0:
                    with torch.no_grad():
                        d_real = critic(obj.real(batch))
                real_logits = d_real.logits if self.game.uses_real_in_g else None
                parts["adv"] = (cfg.adv_weight, _scales(self.game.g_loss, d_fake.logits, real_logits))
                parts.update(feature_matching_term(cfg.feature_matching_weight, d_real, d_fake, self.run.head))
                turn = Turn(self.G, critic, d_real, d_fake)
            parts.update(self.content_terms(batch, fake, turn))
            if self.history is not None:
                parts.update(self.history.term("G"))
        loss, logged = _combine("G", parts)
        self.precision.step(loss, self.opt_g, cfg.grad_clip)
        if self.history is not None:
            self.history.update("G")
        if self.ema is not None:
            self.ema.update(self.step)
        return logged

    def content_terms(self, batch: dict, fake: torch.Tensor, turn: Turn) -> dict[str, tuple[float, torch.Tensor]]:
        """The head's generator terms; with a teacher (train/teacher.py), each against the ground truth weighted
        1 - `teacher_share` and against the teacher's output weighted `teacher_share` (as `distill/<name>`)."""
        terms = self.obj.generator_terms(batch, fake, turn)
        if self.teacher is None:
            return terms
        if "target" not in batch:
            raise UserError(f"train.teacher needs a paired head (batches with a target image); {self.run.head} has none")
        taught = self.obj.generate(self.teacher, batch)
        if taught.shape != fake.shape:
            raise UserError(f"train.teacher makes {tuple(taught.shape[1:])} images where this run's generator makes "
                            f"{tuple(fake.shape[1:])}; pass a teacher of the same scale and channels")
        share = self.cfg.teacher_share
        distilled = self.obj.generator_terms({**batch, "target": taught.to(fake.dtype)}, fake, turn)
        return ({name: ((1 - share) * w, t) for name, (w, t) in terms.items()}
                | {DISTILL_PREFIX + name: (share * w, t) for name, (w, t) in distilled.items()})

    # --- the run -------------------------------------------------------------------------

    def train(self) -> Path:
        """Run until `cfg.steps` generator steps; returns the final checkpoint path."""
        cfg, env = self.cfg, self.env
        if env.is_main:
            with writing(self.out_dir / "config.json"):
                self.out_dir.mkdir(parents=True, exist_ok=True)
                (self.out_dir / "config.json").write_text(json.dumps(to_dict(self.run), indent=2, sort_keys=True), encoding="utf-8")
            amp = str(self.precision.dtype).removeprefix("torch.") if self.precision.dtype else "off"
            print(f"training {self.run.head} on {self.device} (amp {amp}, {env.world_size} process(es)) -> {self.out_dir}", file=sys.stderr)
        progress = Progress(cfg.steps, self.step, env.is_main)
        self._clock = (time.perf_counter(), self.step)
        try:
            while self.step < cfg.steps:
                terms = self.iteration()
                self.step += 1
                self.track(terms)
                self.periodic()
                progress.update(self.shown)
        except KeyboardInterrupt:
            if env.is_main:
                if not env.enabled:
                    self.refresh_ema_statistics()
                path = self.save(interrupted=True)
                print(f"\ninterrupted at step {self.step}: saved {path}; continue with --resume", file=sys.stderr)
            raise
        finally:
            progress.close()
        if env.is_main and self.log.path.is_file():
            plot_losses(self.log.path, self.out_dir / "losses.png")
        distributed.barrier(env)  # the final checkpoint exists before any rank returns its path
        return checkpoint_path(self.out_dir, self.step)

    def track(self, terms: dict[str, torch.Tensor]) -> None:
        """Average the step's terms over ranks, stop on NaN/inf, accumulate for the log."""
        names = list(terms)
        values = distributed.mean_across(torch.stack([terms[n].float() for n in names]), self.env)  # (T,)
        finite = torch.isfinite(values)
        if not bool(finite.all()):  # the one host sync per step
            bad = int((~finite).nonzero()[0])
            last = latest_checkpoint(self.out_dir)
            raise TrainingDiverged(
                f"training diverged: loss term {names[bad]} = {values[bad].item()} at step {self.step}; "
                f"last good checkpoint: {last or 'none'}. Lower the learning rates or add a penalty (train.gp_weight / train.r1_weight)"
            )
        self.meter.add(names, values)

    def periodic(self) -> None:
        """Log, sample, evaluate and checkpoint when due (always at the last step)."""
        step, cfg = self.step, self.cfg
        last = step == cfg.steps

        def due(every: int) -> bool:
            return every > 0 and (step % every == 0 or last)

        if due(cfg.log_every) or last:
            self.write_log()
        if due(cfg.sample_every) or due(cfg.eval_every) or due(cfg.ckpt_every) or last:
            self.refresh_ema_statistics()  # on every rank: a SyncBatchNorm shadow all-reduces
        if self.env.is_main:
            if due(cfg.sample_every):
                self.write_samples()
            if due(cfg.eval_every):
                self.evaluate()
            if due(cfg.ckpt_every) or last:
                self.save()

    def write_log(self) -> None:
        means = self.meter.pop()
        start, start_step = self._clock
        now = time.perf_counter()
        self._clock = (now, self.step)
        self.shown = summary(means)
        self.metrics["train"] = means
        if self.env.is_main:
            lrs = {"lr_g": self.opt_g.param_groups[0]["lr"]}
            if self.opt_d is not None:
                lrs["lr_d"] = self.opt_d.param_groups[0]["lr"]
            rate = (self.step - start_step) / max(now - start, 1e-9)
            self.log.write({"step": self.step, "epoch": self.stream.epoch, "it_s": round(rate, 2), **lrs, **means})

    def generator_for_inference(self) -> torch.nn.Module:
        """The EMA generator when EMA is on (what samples, evaluation and export use), else G."""
        return self.ema.shadow if self.ema is not None else self.G_raw

    def refresh_ema_statistics(self) -> None:
        """Batch-norm statistics of the EMA generator for its own weights (see `EMA.recalibrate`),
        from `ema_bn_batches` training batches drawn with a step-seeded generator (reproducible,
        and the training stream's position is untouched)."""
        if self.ema is None or self.cfg.ema_bn_batches <= 0:
            return
        dataset, picks = self.stream.dataset, torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + self.step)

        def forward(model: torch.nn.Module) -> None:
            idx = torch.randint(len(dataset), (self.cfg.batch_size,), generator=picks).tolist()
            batch = self.stream.to_device(batch_of(dataset, idx))
            with self.precision.autocast():
                self.obj.generate(model, batch)

        self.ema.recalibrate(forward, self.cfg.ema_bn_batches)

    def write_samples(self) -> Path:
        """The sample picture of the fixed batch with fixed noise: samples/step_N.png."""
        gen = self.generator_for_inference()
        was_training = gen.training
        gen.eval()
        seed_all(self.cfg.seed, self.device)  # fixed noise; the next step reseeds every stream anyway
        with torch.no_grad(), self.precision.autocast():
            fake = self.obj.generate(gen, self.sample_batch)
        gen.train(was_training)
        picture = self.obj.sample_grid(self.sample_batch, fake, tuple(self.head.graph(self.run.model).value_range))
        return save_grid(picture, self.out_dir / "samples" / f"step_{self.step:06d}.png")

    def evaluate(self) -> dict:
        """The head's metrics of the inference generator, logged as eval/* and kept for the checkpoint."""
        gen = self.generator_for_inference()
        was_training = gen.training
        gen.eval()
        with torch.no_grad():
            result = self.head.evaluate(gen, self.run, None)
        gen.train(was_training)
        numbers = {f"eval/{k}": v for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        self.log.write({"step": self.step, **numbers})
        self.metrics["eval"] = result
        return result

    # --- checkpoints ---------------------------------------------------------------------

    def _modules(self) -> dict[str, torch.nn.Module]:
        modules = {"G": self.G_raw}
        if self.ema is not None:
            modules["G_ema"] = self.ema.shadow
        if self.adversarial:
            modules["D"] = self.D_raw
        if self.history is not None:
            modules.update(self.history.modules())
        return modules

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_g": self.opt_g, **({"opt_d": self.opt_d} if self.adversarial else {})}

    def save(self, interrupted: bool = False) -> Path:
        """Checkpoint the run at the current step and rotate old checkpoints (rank 0)."""
        path = save_training(checkpoint_path(self.out_dir, self.step), self.run, self.step, self.stream.state(),
                             self._modules(), self._optimizers(), self.precision.scaler, self.metrics, interrupted)
        prune_checkpoints(self.out_dir, self.cfg.keep_last)
        return path

    def resume(self) -> None:
        """Continue from the newest checkpoint in the run folder."""
        path = latest_checkpoint(self.out_dir)
        if path is None:
            raise UserError(f"--resume: no checkpoint in {self.out_dir / 'checkpoints'}; start without --resume")
        meta, changes = restore_training(path, self.run, self._modules(), self._optimizers(), self.precision.scaler)
        self.step = int(meta["step"])
        self.stream.epoch, self.stream.position = int(meta["data"]["epoch"]), int(meta["data"]["position"])
        self.metrics = meta.get("metrics", {})
        if self.env.is_main:
            self.log.truncate_after(self.step)
            print(f"resuming from {path} at step {self.step}", file=sys.stderr)
            if changes:
                print(f"resuming with {', '.join(changes)}", file=sys.stderr)
