"""Salimans et al. options on the conditional head: short default-recipe runs with and without each.

    python benchmarks/conditional_salimans.py [--runs base-s0,base-s1,fm1-s0] [--steps 3000] [--out runs/salimans]

Each run is the `default` recipe (Fashion-MNIST, hinge, EMA) cut to `--steps` generator steps
with the linear decay from half of them, on one CPU thread under `nice`, then `gan-app eval
conditional` (10,000 samples judged by the shipped domain classifier). A run is VARIANT-sSEED
(variants below); one whose evaluation is already in `--out` is not repeated, so the script
also collects finished runs. Prints one row per run and the mean per variant; writes
benchmarks/results/conditional_salimans.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, write_json  # noqa: E402

VARIANTS = {   # name -> the --set options on top of the shortened default recipe
    "base": [],
    "fm1": ["train.feature_matching_weight=1.0"],
    "fm01": ["train.feature_matching_weight=0.1"],
    "mbd32": ["model.minibatch_kernels=32"],
    "vbn64": ["model.virtual_bn=64"],
}
METRICS = ("frechet_distance", "frechet_mean_term", "conditional_accuracy", "is_score")
MEASURED = "base-s0,base-s1,fm1-s0,fm01-s0,mbd32-s0,vbn64-s0"   # docs/benchmarks.md's table


def train_and_eval(name: str, seed: int, steps: int, out: Path) -> dict:
    """The evaluation of run `name`-s`seed` under `out` (trained and evaluated first if missing)."""
    run = out / f"{name}-s{seed}"
    evaluation, timing = run.with_suffix(".eval.json"), run.with_suffix(".time.json")
    if not evaluation.is_file():
        sets = ["train.cpu_threads=1", "train.num_workers=0", f"train.decay_start={steps // 2}",
                "train.ckpt_every=1000", "train.sample_every=1000", *VARIANTS[name]]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        start = time.perf_counter()
        subprocess.run(["nice", "-n", "15", "gan-app", "train", "conditional", "--out", str(run), "--steps", str(steps),
                        "--seed", str(seed), *[a for s in sets for a in ("--set", s)]], check=True, env=env)
        timing.write_text(json.dumps({"train_seconds": round(time.perf_counter() - start)}))
        subprocess.run(["nice", "-n", "15", "gan-app", "eval", "conditional", "--checkpoint",
                        str(run / "checkpoints" / f"step_{steps:06d}.safetensors"), "-o", str(evaluation)],
                       check=True, env=env)
    metrics = json.loads(evaluation.read_text())
    return {"variant": name, "seed": seed, "steps": steps, "options": " ".join(VARIANTS[name]) or "(none)",
            "train_seconds": json.loads(timing.read_text())["train_seconds"], **{k: metrics[k] for k in METRICS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=MEASURED, help=f"comma-separated VARIANT-sSEED, variants: {', '.join(VARIANTS)}")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("runs/salimans"))
    args = parser.parse_args()
    runs = [item.rpartition("-s") for item in args.runs.split(",")]
    bad = [f"{n}-s{seed}" for n, _, seed in runs if n not in VARIANTS or not seed.isdigit()]
    if bad:
        parser.error(f"runs {bad} are not VARIANT-sSEED with a variant of {list(VARIANTS)}")
    rows = [train_and_eval(name, int(seed), args.steps, args.out) for name, _, seed in runs]
    names = list(dict.fromkeys(name for name, _, _ in runs))
    print_table(rows, ["variant", "seed", "train_seconds", *METRICS])
    means = [{"variant": n, **{k: statistics.mean(r[k] for r in rows if r["variant"] == n) for k in METRICS}} for n in names]
    print_table(means, ["variant", *METRICS])
    write_json("conditional_salimans", {"runs": rows, "means": means})


if __name__ == "__main__":
    main()
