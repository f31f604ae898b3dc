r"""Searches with and without attention blocks, same budget and seeds.

    python benchmarks/attention.py                  # 12 searches, about 40 minutes on 2 cores
    python benchmarks/attention.py --seeds=0 --tasks=listops   # a part of it
    python benchmarks/attention.py --page           # only rewrite the page from the results

For each task (ListOps, ``configs/listops.py``; MNIST-1D, ``configs/mnist1d.py``
with the same attention tables) and seed, two searches of the same budget
(``BUDGET``): the space with attention blocks, and the same space with
``space.attention_heads=()``. Each search runs in a fresh process with one
fake CPU device per core and no compilation cache (compilation is part of
its wall time), through ``experiments/search.py`` as a user runs it, and
ends as every search does: the finalists retrained, the best on validation
tested once. A finished search is a line of
``benchmarks/results/attention_runs.jsonl``; running again skips it.

Writes the tables of ``docs/reproductions/attention.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
RESULTS = os.path.join(REPO_ROOT, "benchmarks", "results", "attention_runs.jsonl")
DOC = os.path.join(REPO_ROOT, "docs", "reproductions", "attention.md")
CONFIGS = {
    "listops": os.path.join(REPO_ROOT, "configs", "listops.py"),
    "mnist1d": os.path.join(REPO_ROOT, "configs", "mnist1d.py"),
}
ATTENTION = {
    "space.attention_heads": "(2,4)",
    "space.mlp_ratios": "(2,4)",
    "space.patch_sizes": "(2,4)",
}
BUDGET = {
    "budget.evaluations": 32,
    "train.steps": 300,
    "final.steps": 1500,
    "final.top_k": 2,
    "parallel.round_size": 8,
}
SPACES = ("attention", "no_attention")
# Block names of a description, as ``PathwaySpace.describe`` writes them.
_BLOCK = re.compile(r"(?:ln\+)?([a-z_]+?)(?:1d|2d)?(?:\(|\+|$)")


def overrides(space: str) -> list[str]:
    values = dict(BUDGET)
    if space == "attention":
        values.update(ATTENTION)
    else:
        values["space.attention_heads"] = "()"
    return [f"--config.{key}={value}" for key, value in values.items()]


def search(task: str, space: str, seed: int, devices: int) -> dict:
    """One search in a fresh process: its summary figures."""
    with tempfile.TemporaryDirectory() as workdir:
        command = [
            sys.executable,
            os.path.join(REPO_ROOT, "experiments", "search.py"),
            f"--config={CONFIGS[task]}",
            f"--workdir={workdir}",
            f"--config.seed={seed}",
            "--config.progress.report=False",
            "--config.progress.bar=False",
            *overrides(space),
        ]
        env = dict(os.environ, PYTHONPATH=REPO_ROOT, JAX_NUM_CPU_DEVICES=str(devices))
        env.pop("JAX_COMPILATION_CACHE_DIR", None)
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        with open(os.path.join(workdir, "summary.json"), encoding="utf-8") as file:
            summary = json.load(file)
        with open(os.path.join(workdir, "history.jsonl"), encoding="utf-8") as file:
            history = [json.loads(line) for line in file]
    return {
        "task": task,
        "space": space,
        "seed": seed,
        "test_accuracy": summary["final"]["test"]["accuracy"],
        "validation_accuracy": summary["final"]["validation"]["accuracy"],
        "best": summary["best_description"],
        "best_blocks": blocks_of(summary["best_description"]),
        "candidates_with_attention": sum("attention(" in r["description"] for r in history),
        "candidates": len(history),
        "wall_seconds": round(summary["wall_seconds"], 1),
        "process_seconds": round(seconds, 1),
    }


def blocks_of(description: str) -> list[str]:
    """The block kinds of a description (``conv``, ``attention``, ``mean_pool``, ...)."""
    structure = description.partition(" | ")[0].split(" → ")[:-1]  # Without the read-out.
    kinds = []
    for block in structure:
        match = _BLOCK.match(block)
        kinds.append(match.group(1) if match else block)
    return kinds


def _done() -> dict:
    runs = {}
    if os.path.exists(RESULTS):
        with open(RESULTS, encoding="utf-8") as file:
            for line in file:
                run = json.loads(line)
                runs[(run["task"], run["space"], run["seed"])] = run
    return runs


def page(runs: dict, command: str) -> None:
    """The per-seed table and the summary of ``docs/reproductions/attention.md``."""
    from benchmarks import common

    tasks = sorted({task for task, _, _ in runs})
    seeds = sorted({seed for _, _, seed in runs})
    rows = [
        "| task | seed | with attention: test | best pathway's blocks | s "
        "| without: test | best pathway's blocks | s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    summary = ["| task | mean test with | mean test without | wins with / ties / without |"]
    summary.append("| --- | --- | --- | --- |")
    for task in tasks:
        pairs = []
        for seed in seeds:
            cells = [task, str(seed)]
            pair = []
            for space in SPACES:
                run = runs.get((task, space, seed))
                if run is None:
                    cells += ["", "", ""]
                    continue
                pair.append(run["test_accuracy"])
                blocks = ", ".join(run["best_blocks"]) or "(read-out only)"
                cells += [f"{run['test_accuracy']:.3f}", blocks, f"{run['wall_seconds']:.0f}"]
            rows.append("| " + " | ".join(cells) + " |")
            if len(pair) == 2:
                pairs.append(pair)
        if pairs:
            with_, without = zip(*pairs, strict=True)
            wins = sum(a > b for a, b in pairs)
            ties = sum(a == b for a, b in pairs)
            summary.append(
                f"| {task} | {sum(with_) / len(with_):.3f} | {sum(without) / len(without):.3f} "
                f"| {wins} / {ties} / {len(pairs) - wins - ties} |"
            )
    common.replace_doc_block(DOC, "attention-runs", command, "\n".join(rows))
    common.replace_doc_block(DOC, "attention-summary", command, "\n".join(summary))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="listops,mnist1d")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--devices", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--page", action="store_true", help="only rewrite the page")
    args = parser.parse_args(argv)
    runs = _done()
    if not args.page:
        os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
        for task in args.tasks.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                for space in SPACES:
                    if (task, space, seed) in runs:
                        continue
                    run = search(task, space, seed, args.devices)
                    print(json.dumps(run), flush=True)
                    with open(RESULTS, "a", encoding="utf-8") as file:
                        file.write(json.dumps(run) + "\n")
                    runs[(task, space, seed)] = run
    page(runs, "python benchmarks/attention.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
