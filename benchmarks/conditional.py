"""Class-conditional benchmark: the head's metrics of a checkpoint against the issue's targets.

    python benchmarks/conditional.py --checkpoint CKPT [--no-ema] [--n 10000]

Evaluates the generator (EMA weights unless --no-ema) with the shipped Fashion-MNIST domain
classifier (see apps/conditional/evaluate.py): conditional accuracy, IS-style score and the
Fréchet distance of its penultimate features vs the real test set, with the real-train-vs-test
floor. Prints a table and writes benchmarks/results/conditional.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, write_json  # noqa: E402

TARGETS = {"conditional_accuracy": 0.85, "is_score": 8.0, "frechet_ratio_to_floor": 3.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--n", type=int, default=10_000, help="generated samples (spread evenly over the classes)")
    parser.add_argument("--no-ema", action="store_true", help="evaluate the raw generator")
    args = parser.parse_args()

    from gan_app.apps.conditional.evaluate import evaluate_generator
    from gan_app.checkpoint import load_generator, read_meta

    _, run, generator = load_generator(args.checkpoint, use_ema=not args.no_ema)
    metrics = evaluate_generator(generator, run, n=args.n)
    met = {"conditional_accuracy": metrics["conditional_accuracy"] >= TARGETS["conditional_accuracy"],
           "is_score": metrics["is_score"] >= TARGETS["is_score"],
           "frechet_ratio_to_floor": metrics["frechet_ratio_to_floor"] <= TARGETS["frechet_ratio_to_floor"]}
    rows = [{"metric": k, "value": metrics[k], "target": ("<= " if k.startswith("frechet") else ">= ") + str(TARGETS[k]),
             "met": met[k]} for k in TARGETS]
    rows += [{"metric": k, "value": metrics[k], "target": "", "met": ""}
             for k in ("classifier_test_accuracy", "is_score_std", "is_score_real_test", "frechet_distance",
                       "frechet_floor_real_train_vs_test", "frechet_mean_term")]
    print_table(rows, ["metric", "value", "target", "met"])
    print_table([{"class": name, **values} for name, values in metrics["per_class"].items()],
                ["class", "conditional_accuracy", "frechet_distance"])
    write_json("conditional", {"checkpoint": args.checkpoint.name, "step": read_meta(args.checkpoint)["step"],
                               "ema": not args.no_ema, "metrics": metrics, "targets": TARGETS, "met": met})


if __name__ == "__main__":
    main()
