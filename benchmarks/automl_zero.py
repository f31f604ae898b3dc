r"""AutoML-Zero in the program space: throughput, and linear regression from scratch.

    python benchmarks/automl_zero.py --part=throughput      # about 4 minutes
    python benchmarks/automl_zero.py --part=seeds --seeds=0,1,2 --seconds=300
    python benchmarks/automl_zero.py --part=nonlinear --seeds=0,1,2

``throughput``: algorithms evaluated per second on the linear demo
(``configs/automl_zero_linear.py``), one process pinned to one core
(``taskset``; XLA uses that core only), measured four ways in one run:
the compiled interpreter alone (random programs, no loop), and the search
loop with both caches, with the genotype cache only, and with none. The
search figures count every candidate the strategy proposed (a cache hit is
an evaluated algorithm, as in the paper) over the search's seconds after its
first round (compilation excluded; reported separately).

``seeds``: the demo per seed with a wall-clock budget, stopping at search
fitness 0.9999; a seed succeeds when the chosen program's fitness on the 100
unseen final tasks exceeds 0.9999. ``nonlinear``: the damaged 2-layer network
(``configs/automl_zero_nonlinear.py``) per seed.

Writes ``benchmarks/results/automl_zero_<part>.json`` and the tables of
``docs/reproductions/automl_zero.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
DOC = os.path.join(REPO_ROOT, "docs", "reproductions", "automl_zero.md")
LINEAR = os.path.join(REPO_ROOT, "configs", "automl_zero_linear.py")
NONLINEAR = os.path.join(REPO_ROOT, "configs", "automl_zero_nonlinear.py")
PROJECTED = os.path.join(REPO_ROOT, "configs", "automl_zero_projected.py")


CORE = {"index": 0}  # The core the searches run on (--core).


def _pinned(command: list[str]) -> list[str]:
    """``command`` on one core only, where ``taskset`` exists."""
    if not shutil.which("taskset"):
        return command
    return ["taskset", "-c", str(CORE["index"]), *command]


def run_search(config: str, workdir: str, overrides: list[str], timeout: float) -> dict:
    """One search in a fresh process on one core; its summary and metrics."""
    command = [
        sys.executable,
        os.path.join(REPO_ROOT, "experiments", "search.py"),
        f"--config={config}",
        f"--workdir={workdir}",
        "--config.progress.report=False",
        "--config.progress.bar=False",
        *overrides,
    ]
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # Cold: compilation is part of the time.
    start = time.perf_counter()
    completed = subprocess.run(
        _pinned(command), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-3000:])
    with open(os.path.join(workdir, "summary.json"), encoding="utf-8") as file:
        summary = json.load(file)
    with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as file:
        metrics = [json.loads(line) for line in file]
    return {"summary": summary, "metrics": metrics, "process_seconds": seconds}


def _search_rate(result: dict) -> dict:
    metrics = result["metrics"]
    first, last = metrics[0], metrics[-1]
    seconds = last["wall_seconds"] - first["wall_seconds"]
    return {
        "evaluations": last["evaluations"],
        "algorithms_per_second": round((last["evaluations"] - first["evaluations"]) / seconds, 1),
        "first_round_seconds": first["wall_seconds"],
        "genotype_hit_rate": last.get("cache_hit_rate", 0.0),
        "behaviour_hit_rate": last.get("behaviour_hit_rate", 0.0),
        "best_fitness": last["best_fitness"],
    }


_INTERPRETER_ONLY = r"""
import json, sys, time
import jax
sys.path.insert(0, sys.argv[1])
from pathways_jax.evaluators.programs import ProgramEvaluator, ProgramEvaluatorSettings
from pathways_jax.spaces.program import components, tasks
config = components.program_config()
space = components.program_space(config.space, None)
evaluator = ProgramEvaluator(space, tasks.TaskSettings(), ProgramEvaluatorSettings(chunk_size=64))
programs = jax.vmap(space.sample)(jax.random.split(jax.random.key(0), 1024))
evaluator.fitness(programs, evaluator.search_tasks)  # Compiles.
start = time.perf_counter()
evaluator.fitness(programs, evaluator.search_tasks)
print(json.dumps({"algorithms_per_second": round(1024 / (time.perf_counter() - start), 1)}))
"""


def throughput(evaluations: int) -> dict:
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    completed = subprocess.run(
        _pinned([sys.executable, "-c", _INTERPRETER_ONLY, REPO_ROOT]),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = {"interpreter_only": json.loads(completed.stdout.strip().splitlines()[-1])}
    variants = {
        "both_caches": [],
        "genotype_cache_only": ["--config.strategy.behaviour_cache=False"],
        "no_cache": [
            "--config.strategy.behaviour_cache=False",
            "--config.strategy.equivalence_cache=False",
        ],
    }
    for name, overrides in variants.items():
        with tempfile.TemporaryDirectory() as workdir:
            run = run_search(
                LINEAR,
                workdir,
                [f"--config.budget.evaluations={evaluations}", *overrides],
                timeout=1800,
            )
        result[name] = _search_rate(run)
        print(name, result[name], flush=True)
    return result


def solved_linear(row: dict) -> bool:
    """Linear regression found: fitness above 0.9999 on the unseen final tasks."""
    return row["final_fitness"] > 0.9999


def repaired_network(row: dict) -> bool:
    """The damaged network repaired: ``Setup`` draws the hidden weights ``m0``
    or the hidden bias ``v1`` (either makes the hidden activations non-zero,
    so the readout learns and backpropagation reaches the hidden layer; the
    all-zero start trains only the output bias), and the search fitness
    beats the start's."""
    setup = row["listing"].split("def Predict")[0]
    draws = "m0 = gaussian" in setup or "v1 = gaussian" in setup
    return draws and row["search_fitness"] > row["start_search_fitness"]


def seeds(
    config: str, seed_list: list[int], seconds: float, evaluations: int, solved
) -> list[dict]:
    rows = []
    for seed in seed_list:
        with tempfile.TemporaryDirectory() as workdir:
            run = run_search(
                config,
                workdir,
                [
                    f"--config.seed={seed}",
                    f"--config.evaluator.tasks.seed={seed}",
                    f"--config.budget.seconds={seconds}",
                    f"--config.budget.evaluations={evaluations}",
                ],
                timeout=seconds + 600,
            )
            with open(os.path.join(workdir, "best", "listing.txt"), encoding="utf-8") as file:
                listing = file.read()
        summary, metrics = run["summary"], run["metrics"]
        reached = next((m for m in metrics if m["best_fitness"] >= 0.9999), None)
        row = {
            "seed": seed,
            "search_fitness": summary["search_validation"]["fitness"],
            "final_fitness": summary["final"]["test"]["fitness"],
            "evaluations": summary["evaluations"],
            "wall_seconds": summary["wall_seconds"],
            "process_seconds": round(run["process_seconds"], 1),
            "seconds_to_target": reached["wall_seconds"] if reached else None,
            "evaluations_to_target": reached["evaluations"] if reached else None,
            "start_search_fitness": metrics[0]["round_best_fitness"],
            "listing": listing,
        }
        row["success"] = solved(row)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "listing"}), flush=True)
    return rows


# (module, attribute, label) of each phase :func:`phases` times.
PHASES = (
    ("pathways_jax.core.stages", "ask_round", "strategy `ask`"),
    ("pathways_jax.core.stages", "EquivalenceCache.before", "genotype cache stage"),
    ("pathways_jax.evaluators.programs", "ProgramEvaluator.evaluate", "evaluation"),
    ("pathways_jax.core.behaviour_cache", "BehaviourCache.before", "behaviour cache stage"),
    ("pathways_jax.evaluators.programs", "ProgramEvaluator.behaviour", "of it, the fingerprint"),
    ("pathways_jax.core.loop", "history_lines", "history records"),
    ("pathways_jax.core.run_files", "RunFiles.write_round", "writing records"),
    ("pathways_jax.core.run_files", "RunFiles.save", "checkpoints"),
)


def phases(evaluations: int) -> dict:
    """Seconds of each phase of one demo search in this process (each phase
    timed around its function), and the total."""
    import importlib

    from pathways_jax import api
    from pathways_jax.config import load_config_file

    seconds = dict.fromkeys((label for *_, label in PHASES), 0.0)
    for module_name, attribute, label in PHASES:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def timed(*args, original=original, label=label, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - start

        setattr(owner, name, timed)
    config = load_config_file(LINEAR)
    config.budget.evaluations = evaluations
    config.progress.report = False
    config.progress.bar = False
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        summary = api.run_search(config, workdir)
        total = time.perf_counter() - start
    return {
        "evaluations": summary["evaluations"],
        "rounds": summary["rounds"],
        "total_seconds": round(total, 1),
        "phase_seconds": {label: round(value, 1) for label, value in seconds.items()},
    }


def phases_table(result: dict) -> str:
    rows = ["| phase | seconds |", "| --- | --- |"]
    rows += [f"| {label} | {value:.1f} |" for label, value in result["phase_seconds"].items()]
    timed = sum(v for k, v in result["phase_seconds"].items() if not k.startswith("of it"))
    rows.append(
        f"| the rest (compilation of the finish, start-up, the finish) | {result['total_seconds'] - timed:.1f} |"
    )
    rows.append(
        f"| total ({result['evaluations']:,} candidates, {result['rounds']} rounds) | {result['total_seconds']:.1f} |"
    )
    return "\n".join(rows) + "\n"


def projected(seed_list: list[int], evaluations: int) -> list[dict]:
    """The projected config per seed, and the hand-written network (its
    start) scored on the same final tasks."""
    import jax

    from pathways_jax.config import load_config_file
    from pathways_jax.core import genomes
    from pathways_jax.spaces.program import components, interpreter, programs
    from pathways_jax.spaces.program import tasks as tasks_lib

    rows = []
    for seed in seed_list:
        config = load_config_file(PROJECTED)
        config.evaluator.tasks.seed = seed
        space = components.program_space(config.space, None)
        final = tasks_lib.make_tasks(components.task_settings(config.evaluator), "final")
        network = genomes.stack_genomes([space.from_json(programs.NEURAL_NET)])
        baseline = float(jax.numpy.mean(interpreter.fitness(space.machine, network, final)))
        with tempfile.TemporaryDirectory() as workdir:
            run = run_search(
                PROJECTED,
                workdir,
                [
                    f"--config.seed={seed}",
                    f"--config.evaluator.tasks.seed={seed}",
                    f"--config.budget.evaluations={evaluations}",
                ],
                timeout=1800,
            )
        summary = run["summary"]
        rows.append(
            {
                "seed": seed,
                "network_final_fitness": baseline,
                "search_fitness": summary["search_validation"]["fitness"],
                "selection_fitness": summary["final"]["validation"]["fitness"],
                "final_fitness": summary["final"]["test"]["fitness"],
                "wall_seconds": summary["wall_seconds"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def projected_table(rows: list[dict]) -> str:
    lines = [
        "| seed | hand-written network, final tasks | found, search | found, selection | "
        "found, final (20 unseen pairs) | seconds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['seed']} | {row['network_final_fitness']:.3f} | {row['search_fitness']:.3f} | "
            f"{row['selection_fitness']:.3f} | {row['final_fitness']:.3f} | {row['wall_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def throughput_table(result: dict) -> str:
    rows = [
        "| measured | algorithms / s (one core) | genotype cache hits | behaviour cache hits |",
        "| --- | --- | --- | --- |",
        f"| interpreter alone (1024 random programs, 10 tasks x 200 examples) | "
        f"{result['interpreter_only']['algorithms_per_second']:,.0f} | - | - |",
    ]
    names = {
        "both_caches": "search, both caches",
        "genotype_cache_only": "search, genotype cache only",
        "no_cache": "search, no cache",
    }
    for key, name in names.items():
        row = result[key]
        rows.append(
            f"| {name} ({row['evaluations']:,} candidates) | {row['algorithms_per_second']:,.0f} | "
            f"{row['genotype_hit_rate']:.0%} | {row['behaviour_hit_rate']:.0%} |"
        )
    return "\n".join(rows) + "\n"


def _number(value) -> str:
    return "-" if value is None else f"{value:.5f}"


def seeds_table(rows: list[dict], final_tasks: int = 100) -> str:
    lines = [
        f"| seed | start's search fitness | search fitness | final fitness ({final_tasks} unseen "
        "tasks) | candidates | seconds | reached 0.9999 after | solved |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        reached = (
            f"{row['seconds_to_target']:.0f} s, {row['evaluations_to_target']:,} candidates"
            if row["seconds_to_target"] is not None
            else "-"
        )
        lines.append(
            f"| {row['seed']} | {_number(row.get('start_search_fitness'))} | {row['search_fitness']:.5f} | "
            f"{row['final_fitness']:.5f} | "
            f"{row['evaluations']:,} | {row['wall_seconds']:.0f} | {reached} | "
            f"{'yes' if row['success'] else 'no'} |"
        )
    solved = sum(row["success"] for row in rows)
    lines.append("")
    lines.append(f"Solved: {solved} of {len(rows)} seeds.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", choices=("throughput", "seeds", "nonlinear", "phases", "projected"), required=True
    )
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--evaluations", type=int, default=None)
    parser.add_argument("--core", type=int, default=0, help="the core to pin searches to")
    args = parser.parse_args()
    CORE["index"] = args.core
    if args.part == "phases" and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})  # Before JAX starts its threads.
    from benchmarks import common

    seed_list = [int(s) for s in args.seeds.split(",")]
    command = "python benchmarks/automl_zero.py " + " ".join(sys.argv[1:])
    result = {"machine": common.machine(), "command": command}
    if args.part == "throughput":
        result["throughput"] = throughput(args.evaluations or 60_000)
        table = throughput_table(result["throughput"])
    elif args.part == "seeds":
        result["seeds"] = seeds(
            LINEAR, seed_list, args.seconds, args.evaluations or 10_000_000, solved_linear
        )
        table = seeds_table(result["seeds"])
    elif args.part == "nonlinear":
        result["seeds"] = seeds(
            NONLINEAR, seed_list, args.seconds, args.evaluations or 20_000, repaired_network
        )
        table = seeds_table(result["seeds"], final_tasks=10)
    elif args.part == "phases":
        result["phases"] = phases(args.evaluations or 50_000)
        table = phases_table(result["phases"])
    else:
        result["seeds"] = projected(seed_list, args.evaluations or 1_000)
        table = projected_table(result["seeds"])
    print(common.write_result(f"automl_zero_{args.part}", result))
    common.replace_doc_block(DOC, f"automl_zero_{args.part}", command, table)


if __name__ == "__main__":
    main()
