"""Helpers shared by the benchmark scripts: median timing, table printing, JSON output."""

from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def median_seconds(fn, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of `fn()` over `repeats` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns))


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def write_json(name: str, data: dict) -> Path:
    """benchmarks/results/<name>.json with the machine description added."""
    RESULTS.mkdir(exist_ok=True)
    data = {"machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()}, **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    print(f"wrote {path}")
    return path


def ensemble_suffix(ensemble: int) -> str:
    """`_ens<N>` for results and labels of a self-ensembled model (`--ensemble N`), nothing for a single run."""
    return f"_ens{ensemble}" if ensemble > 1 else ""
