r"""Does the input-mask gene keep real columns and drop noise?

    python benchmarks/feature_selection.py                  # 5 seeds x 45 s on 2 cores
    python benchmarks/feature_selection.py --seeds=0,1 --seconds=30

A table of real features (wine: 13 columns, 3 classes) gets as many columns
of pure Gaussian noise; ``PathwayClassifier(feature_selection=True)`` is
fitted per seed with a time budget. Counted: how many
real and how many noise columns the winner reads, and the same over the ten
best candidates. Writes ``benchmarks/results/feature_selection.json`` and the
table in ``docs/automodel.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
DOC = os.path.join(REPO_ROOT, "docs", "automodel.md")


def noisy_wine(seed: int):
    """Wine's 13 columns followed by 13 columns of N(0, 1) noise."""
    from sklearn import datasets

    x, y = datasets.load_wine(return_X_y=True)
    noise = np.random.default_rng(1000 + seed).standard_normal(x.shape)
    return np.concatenate([x, noise], axis=1), y, x.shape[1]


def run_seed(seed: int, seconds: float) -> dict:
    from pathways_jax import PathwayClassifier

    x, y, num_real = noisy_wine(seed)
    model = PathwayClassifier(time_budget=seconds, seed=seed, feature_selection=True).fit(x, y)
    mask = np.asarray(model.genome_.input_mask)
    top = model.leaderboard(top=10)
    ids = list(top["id"]) if hasattr(top, "columns") else [row["id"] for row in top]
    records = {record["id"]: record for record in model.history_}
    top_masks = np.asarray([records[i]["genome"]["input_mask"] for i in ids])
    return {
        "seed": seed,
        "real_columns": num_real,
        "noise_columns": x.shape[1] - num_real,
        "winner_real_read": int(mask[:num_real].sum()),
        "winner_noise_read": int(mask[num_real:].sum()),
        "top10_real_fraction": float(top_masks[:, :num_real].mean()),
        "top10_noise_fraction": float(top_masks[:, num_real:].mean()),
        "candidates": model.summary_["evaluations"],
        "validation_accuracy": model.summary_["search_validation"]["fitness"],
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        "| seed | real columns read (of 13) | noise columns read (of 13) | "
        "top-10 real read | top-10 noise read | candidates |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['seed']} | {row['winner_real_read']} | {row['winner_noise_read']} | "
            f"{row['top10_real_fraction']:.0%} | {row['top10_noise_fraction']:.0%} | "
            f"{row['candidates']} |"
        )
    real = np.mean([r["winner_real_read"] for r in rows])
    noise = np.mean([r["winner_noise_read"] for r in rows])
    lines.append(f"| mean | {real:.1f} | {noise:.1f} | | | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--seconds", type=float, default=45.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("JAX_NUM_CPU_DEVICES", str(os.cpu_count() or 1))
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        rows.append(run_seed(seed, args.seconds))
        print(json.dumps(rows[-1]), flush=True)
    from benchmarks import common

    command = " ".join(["python", *sys.argv])
    common.write_result("feature_selection", {"command": command, "rows": rows})
    common.replace_doc_block(DOC, "feature selection", command, markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
