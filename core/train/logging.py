"""What a run reports: the progress bar, the JSONL metrics log, sample grids, the loss plot.

`metrics.jsonl` has one JSON object per line: `{"step": 100, "G/adv": ..., "D/r1": ...}`
for the training terms (each term separately, unweighted, averaged over the steps since
the previous line and over ranks; `G/total`/`D/total` are the weighted sums that were
backpropagated), and `{"step": 100, "eval/...": ...}` lines for evaluations. A full disk while
writing any of these is a one-line error naming the file (`gan_app.runtime.files.writing`).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import torch

from gan_app.runtime.files import writing


class MetricsLog:
    """Append-only JSONL log; `truncate_after` drops lines a resumed run will rewrite."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def write(self, record: dict) -> None:
        with writing(self.path), open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")

    def truncate_after(self, step: int) -> None:
        """Keep only records with `step <= step` (lines from after the resumed checkpoint go)."""
        if self.path.is_file():
            kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= step]
            with writing(self.path):
                self.path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept), encoding="utf-8")


def read_metrics(path: str | Path) -> list[dict]:
    """The records of a metrics JSONL file (a torn last line from a crash is skipped)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class TermMeter:
    """Running sums of the loss terms between two log lines (kept on device: no sync per step)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.sums: torch.Tensor | None = None
        self.count = 0

    def add(self, names: list[str], values: torch.Tensor) -> None:
        """Accumulate one step's term values, (T,), in the order of `names`."""
        if self.sums is None or names != self.names:
            self.names, self.sums, self.count = list(names), torch.zeros_like(values), 0
        self.sums += values
        self.count += 1

    def pop(self) -> dict[str, float]:
        """Means since the last pop, name -> float; resets the meter."""
        if self.sums is None or self.count == 0:
            return {}
        means = (self.sums / self.count).tolist()
        self.sums, self.count = None, 0
        return dict(zip(self.names, means))


class Progress:
    """A tqdm bar over generator steps showing the latest losses; silent off rank 0."""

    def __init__(self, total: int, initial: int, enabled: bool) -> None:
        from tqdm.auto import tqdm

        # Redrawn ten times a second on a terminal; into a log file (nohup, CI) once every
        # 30 s, so a long run's log stays readable.
        interval = 0.1 if sys.stderr.isatty() else 30.0
        self.bar = tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True,
                        file=sys.stderr, mininterval=interval)

    def update(self, losses: dict[str, float] | None = None) -> None:
        """Advance one step; `losses` (when given) replace the shown values."""
        if losses:
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def save_grid(image: torch.Tensor, path: Path) -> Path:
    """Write a (C, H, W) picture in [0, 1] as PNG."""
    from torchvision.utils import save_image

    if image.dim() != 3:
        raise ValueError(f"a sample grid is one (C, H, W) image, got shape {tuple(image.shape)}")
    with writing(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save_image(image.detach().float().cpu().clamp(0, 1), str(path))
    return Path(path)


def _series(records: list[dict]) -> dict[str, tuple[list[int], list[float]]]:
    """name -> (steps, values) for every G/ and D/ term in the log."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for rec in records:
        for key, value in rec.items():
            if key.startswith(("G/", "D/")) and isinstance(value, (int, float)) and math.isfinite(value):
                steps, values = series.setdefault(key, ([], []))
                steps.append(rec["step"])
                values.append(value)
    return series


def plot_losses(jsonl: str | Path, png: str | Path) -> Path:
    """Plot every G/ and D/ term of a metrics log against the step: one panel per player."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = _series(read_metrics(jsonl))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), squeeze=False)
    for ax, player in zip(axes[0], ("G", "D")):
        for name, (steps, values) in sorted(series.items()):
            if name.startswith(player + "/"):
                ax.plot(steps, values, label=name, linewidth=1)
        ax.set_title("generator" if player == "G" else "discriminator")
        ax.set_xlabel("step")
        if ax.lines:
            ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        with writing(png):
            fig.savefig(png, dpi=100)
    finally:
        plt.close(fig)
    return Path(png)


def summary(terms: dict[str, Any], limit: int = 4) -> dict[str, float]:
    """The few values worth showing on the progress bar: totals first."""
    keys = [k for k in ("G/total", "D/total") if k in terms] + [k for k in terms if not k.endswith("/total")]
    return {k: terms[k] for k in keys[:limit]}
