"""The `gan-app` command line, generated from the discovered heads.

Generic verbs (`heads`, `train`, `export`, `eval`, `run`) work for every head; each head
with an inference verb adds `gan-app <verb>` (e.g. `gan-app deblur photo.png`). Inference
commands run on ONNX Runtime and never import torch; training, export and evaluation
need the `[train]` extra and say so when it is missing.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import typer

from gan_app import __version__
from gan_app.errors import UserError, require_train_extra
from gan_app.apps.help_text import verbatim
from gan_app.discovery import discover_heads, get_head
from gan_app.signals import interrupt_exit, raise_on_termination

EPILOG_TRAIN = """Examples:

  gan-app train deblur --data photos/ --out runs/deblur

  gan-app train deblur --recipe tiny --set train.steps=20 --dry-run

  gan-app train paired --data photos:colorize --name colorize --out runs/colorize

  gan-app train conditional --set train.feature_matching_weight=1 --set model.minibatch_kernels=32

  gan-app train deblur --out runs/deblur --resume --steps 30000   # its config.json, more steps

  gan-app train deblur --config runs/deblur/config.json --out runs/deblur-2 --set loss.fft_weight=10

  torchrun --nproc_per_node 4 -m gan_app.apps.cli train deblur --data gopro/
"""


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"gan-app {__version__}")
        raise typer.Exit()


def _heads_command() -> None:
    """List the heads, their inference verb and whether weights (shipped, or a user model) are present."""
    from gan_app.paths import find_model, user_model

    for name, entry in sorted(discover_heads().items()):
        head = entry.load()
        if head is None:
            typer.echo(f"{name:<14} unavailable: {entry.error}")
            continue
        model_name = head.default_model or name
        found = find_model(model_name)
        weights = "no shipped weights" if found is None else "user model" if found == user_model(model_name) else "shipped weights"
        own_verbs = list(head.extra_commands())  # e.g. the toy head's `gan-app toy`
        verb = f"gan-app {head.verb or (own_verbs[0] if own_verbs else 'run ' + name)}"
        typer.echo(f"{name:<14} {verb:<24} {weights:<20} {head.summary} [{entry.source}]")
        try:
            summaries = head.recipe_summaries()
        except ImportError:   # recipes build torch configs: the base (inference) install lists none
            typer.echo(f"{'':<14} recipes: need the training extra (pip install 'gan-app[train]')")
            continue
        if summaries:
            typer.echo(f"{'':<14} recipes (gan-app train {name} --recipe NAME):")
            for recipe, summary in summaries.items():
                typer.echo(f"{'':<16} {recipe:<12} {summary}")


def _models_command() -> None:
    """List every model each head can run: shipped weights and user models, the default marked, and the
    models a routing head's default also sends some inputs to (`Head.routed_models`) marked `routed`."""
    from gan_app.paths import find_model, models_of

    for name, entry in sorted(discover_heads().items()):
        head = entry.load()
        if head is None:
            continue
        default = find_model(head.default_model or name)
        for model, path, kind in models_of(name):
            mark = ("default" if default is not None and path == default
                    else "routed" if model in head.routed_models else "")
            typer.echo(f"{name:<12} {model:<24} {kind:<8} {mark:<8} {path}")


def _data_path(head, data: str) -> str:
    """`--data` as the head's data.path: `builtin:NAME` is the built-in set NAME; a bare built-in name
    that is also a folder here is ambiguous and refused (which one the user meant cannot be told)."""
    names = head.builtin_data()
    if data.startswith("builtin:"):
        name = data.removeprefix("builtin:")
        if name not in names:
            raise UserError(f"head {head.name!r} has no built-in data set {name!r}; built-in: {', '.join(names) or 'none'}")
        return name
    if data in names and Path(data).exists():
        raise UserError(f"--data {data} is both the built-in set and the folder ./{data}; pass ./{data} for the "
                        f"folder or builtin:{data} for the built-in set")
    return data


def _check_run(head, run) -> None:
    """The checks `fit` makes before any work (fields, model builder, loss, device, AMP), so a
    `--dry-run` never prints a config that training would reject."""
    from gan_app.losses.adversarial import get_game
    from gan_app.train.devices import pick_device, resolve_amp
    from gan_app.train.loop import check_run_config, check_train_config

    check_train_config(run.train)
    check_run_config(head, run)
    get_game(run.train.loss)
    resolve_amp(run.train.amp, pick_device(run.train.device))


def _train_command(
    head: str = typer.Argument(..., help="Head name, see `gan-app heads`."),
    data: Optional[str] = typer.Option(None, "--data", help="Training data (folder, or a named dataset the head knows)."),
    recipe: Optional[str] = typer.Option(None, "--recipe", help="Recipe: default, tiny (seconds, for tests), paper (full GPU recipe) and the head's own; `gan-app heads` lists them. Default: default (with --resume: the run's own config.json)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Start from a stored run config (a run folder's config.json, or --dry-run's output) instead of a recipe."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run folder: config.json, checkpoints/, samples/, metrics.jsonl (default: runs/HEAD-RECIPE). One run per folder."),
    set_: List[str] = typer.Option([], "--set", help="Override a config field, e.g. --set train.steps=5000 or --set loss.content_weight=10 (repeatable)."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Shortcut for --set train.steps=N."),
    device: Optional[str] = typer.Option(None, "--device", help="auto (CUDA, then MPS, then CPU), cuda, mps or cpu."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (bit-for-bit reproducible on CPU)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for torch (shortcut for --set train.cpu_threads=N; the inference verbs' --threads sets ONNX Runtime's)."),
    name: Optional[str] = typer.Option(None, "--name", help="Name the trained model (heads whose models their users name, e.g. paired): it exports and runs as `gan-app run NAME`."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the newest checkpoint in --out, with the config.json stored there (--set/--steps/... apply on top; the model may not change)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Delete the run already in --out and start over."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved config and exit."),
) -> None:
    """Train a head with the one GAN engine (single process, or several with torchrun)."""
    require_train_extra("`gan-app train`")
    from gan_app.config import apply_overrides, to_dict
    from gan_app.discovery import check_model_name
    from gan_app.train.loop import fit
    import json

    h = get_head(head)
    if resume and overwrite:
        raise UserError("--resume continues the run in --out and --overwrite deletes it; pass one of them")
    out = out if out is not None else Path("runs") / f"{h.name}-{recipe or 'default'}"
    run = _base_run(h, recipe, config, out if resume else None)
    overrides = list(set_)
    if data is not None:
        overrides.insert(0, f"data.path={_data_path(h, data)}")
    if steps is not None:
        overrides.append(f"train.steps={steps}")
    if device is not None:
        overrides.append(f"train.device={device}")
    if seed is not None:
        overrides.append(f"train.seed={seed}")
    if threads is not None:
        overrides.append(f"train.cpu_threads={threads}")
    if name is not None:
        if h.model_name_field is None:
            raise UserError(f"head {h.name!r} does not name its models; drop --name")
        overrides.append(f"model.{h.model_name_field}={name}")
    apply_overrides(run, overrides)
    _check_run(h, run)  # everything `fit` would refuse, one line, before --dry-run prints the config
    if h.model_name(run) != h.name:
        check_model_name(h.model_name(run), h.name)
    if dry_run:
        typer.echo(json.dumps(to_dict(run), indent=2, sort_keys=True))
        return
    checkpoint = fit(h, run, out, resume=resume, overwrite=overwrite)
    typer.echo(f"last checkpoint: {checkpoint}")


def _base_run(head, recipe: str | None, config: Path | None, resuming: Path | None):
    """The run config the overrides apply to: `--config FILE`, else `--recipe` (default: `default`), else
    (resuming `resuming` with neither) the config.json of that run folder, as nanoGPT resumes from its
    checkpoint's model args: nothing of the recipe needs retyping."""
    from gan_app.stored import read_run_file

    if recipe is not None and config is not None:
        raise UserError("--recipe and --config both give the whole config; pass one of them")
    if config is not None:
        return read_run_file(head, config)
    if recipe is None and resuming is not None:
        stored = resuming / "config.json"
        if not stored.is_file():
            raise UserError(f"--resume: {stored} not found, so the run's config is unknown; pass the --recipe "
                            "(and --set values) it was started with, or --config FILE")
        return read_run_file(head, stored)
    recipe = recipe or "default"
    if recipe not in head.recipes:
        raise UserError(f"head {head.name!r} has no recipe {recipe!r}; recipes: {', '.join(head.recipes)}")
    return head.recipe(recipe)


def build_app() -> typer.Typer:
    """The typer app with generic verbs plus one inference verb per available head."""
    app = typer.Typer(
        help="gan-app: image-to-image GANs. Run shipped models, train heads, export to ONNX.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help: typer's rich panels print every flag as `--resume <bool>` (its plain formatter
        # leaves flags bare), and plain text pipes cleanly.
        rich_markup_mode=None,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version."),
    ) -> None:
        """gan-app: image-to-image GANs."""

    app.command("heads", help="List heads, their inference verb and shipped weights.")(_heads_command)
    app.command("models", help="List the models of every head (for --model NAME; short names work: "
                               "`--model camera` is deblur-v1-camera).")(_models_command)
    app.command("train", help=_train_command.__doc__, epilog=verbatim(EPILOG_TRAIN))(_train_command)
    for register in _optional_commands():
        register(app)
    for entry in discover_heads().values():
        for verb, command in _head_commands(entry):
            app.command(verb, help=command.__doc__, epilog=verbatim(getattr(command, "epilog", None)))(command)
    return app


def _head_commands(entry) -> list:
    """(verb, command) pairs of one head; a head that fails here is marked unavailable, not fatal."""
    head = entry.load()
    if head is None:
        return []
    try:
        commands = [(head.verb, head.inference_command())] if head.verb else []
        commands += list(head.extra_commands().items())
        return [(verb, fn) for verb, fn in commands if fn is not None]
    except Exception as exc:  # one broken head must never break the CLI
        entry.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return []


def _optional_commands() -> list:
    """The generic `export`, `eval` and `run` register themselves from apps/commands.py."""
    from gan_app.apps.commands import registrars

    return registrars()


# click's exceptions, wherever this typer takes click from (typer 0.2x carries its own copy)
_click = importlib.import_module(typer.BadParameter.__module__)


def usage_line(exc: Exception, commands: Iterable[str] = (), args: Sequence[str] = ()) -> str:
    """click's usage error (a mistyped value, an unknown option, a missing argument) as one line: what is
    wrong, then where the help is; click's own three lines (usage, hint, error) say no more.

    An error without a context (an option's value missing) points at the command among `args` (the
    command line) that is one of `commands`, else at `gan-app --help`."""
    param = getattr(exc, "param", None)
    if isinstance(exc, _click.BadParameter) and not isinstance(exc, _click.MissingParameter) and param is not None:
        where = " / ".join(param.opts) if param.param_type_name == "option" else (param.metavar or param.name.upper())
        text = f"{where}: {_lower_first(exc.message)}"                # --tile: 'abc' is not a valid integer.
    else:
        text = _lower_first(exc.format_message())                     # no such option: --tiel ...
    if exc.ctx is not None:
        command = exc.ctx.command_path
    else:
        named = next((arg for arg in args if not arg.startswith("-")), None)
        command = f"gan-app {named}" if named in commands else "gan-app"
    return f"{' '.join(text.split()).rstrip('.')}; run {command} --help"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def main() -> None:
    """Console entry point: one-line errors, non-zero exit, never a traceback for user errors;
    SIGTERM/SIGHUP clean up like Ctrl-C (no partial files; training saves a checkpoint)."""
    raise_on_termination()
    try:
        app = build_app()
        code = app(prog_name="gan-app", standalone_mode=False)   # click's errors come here, said in one line
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except getattr(_click, "NoArgsIsHelpError", ()) as exc:   # click >= 8.2, a bare `gan-app`: the help
        exc.show()
        sys.exit(exc.exit_code)
    except _click.UsageError as exc:
        commands = typer.main.get_command(app).commands
        typer.echo(f"error: {usage_line(exc, commands, sys.argv[1:])}", err=True)
        sys.exit(exc.exit_code)
    except _click.ClickException as exc:
        typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        code = 130
    except SystemExit as exc:
        if exc.code != 130:
            raise
        code = 130
    if code == 130:     # typer turns an interrupt inside a command into Exit(130), returned here
        code, message = interrupt_exit()
        typer.echo(message, err=True)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
