r"""Run every benchmark and write ``docs/benchmarks.md`` and ``benchmarks/results/*.json``.

    python benchmarks/run.py            # the full run (about 20 minutes on 2 cores)
    python benchmarks/run.py --quick    # a small smoke version (figures mean nothing),
                                        # written to benchmarks/quick/, not docs/

The process fakes one CPU device per core (``JAX_NUM_CPU_DEVICES``) unless
that variable is already set; benchmarks that need another device count run
in their own processes. A full run compiles every program it times (no
persistent compilation cache); the quick run shares compiled programs between
its benchmarks through JAX's cache (``JAX_COMPILATION_CACHE_DIR``, a temporary
directory when unset), since its figures are not measurements.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("JAX_NUM_CPU_DEVICES", str(os.cpu_count() or 1))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

FULL = {
    "overrides": {},
    "throughput_pathways": 64,
    "throughput_steps": 300,
    "shape_class_variants": ("all", "none"),
    "profile_steps": 50,
    "conv_steps": 50,
    "matmul_size": 1024,
    "scaling_devices": (1, 2, 4),
    "scaling_pathways": 16,
    "scaling_steps": 100,
    "compile_grid": ((8, 2), (16, 2), (8, 4)),
    "compile_steps": 10,
    "quality_seeds": (0, 1, 2),
    # The default search, as a user runs it (at half its budget only 1 of 3
    # seeds reached the target).
    "quality_overrides": {},
}
QUICK = {
    "overrides": {"space.max_depth": 1},
    "throughput_pathways": 4,
    "throughput_steps": 5,
    # The quick run's 'none' program is the default run's full one (cached).
    "shape_class_variants": ("none",),
    "profile_steps": 5,
    "conv_steps": 5,
    "matmul_size": 256,
    "scaling_devices": (1, 2),
    "scaling_pathways": 4,
    "scaling_steps": 5,
    "compile_grid": ((8, 1), (8, 2)),
    "compile_steps": 5,
    "quality_seeds": (0,),
    "quality_overrides": {
        "space.max_depth": 1,
        "budget.evaluations": 8,
        "train.steps": 5,
        "final.steps": 5,
        "final.top_k": 1,
    },
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke version")
    parser.add_argument(
        "--results_dir",
        default=None,
        help="where the JSON results go (default: benchmarks/results, or benchmarks/quick/results "
        "with --quick, so that a smoke run never replaces the published figures)",
    )
    parser.add_argument(
        "--doc",
        default=None,
        help="the page to write (default: docs/benchmarks.md, or benchmarks/quick/benchmarks.md "
        "with --quick)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated subset of throughput,compilation,scaling,quality",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    quick_dir = os.path.join(REPO_ROOT, "benchmarks", "quick")
    if args.results_dir is None:
        args.results_dir = (
            os.path.join(quick_dir, "results")
            if args.quick
            else os.path.join(REPO_ROOT, "benchmarks", "results")
        )
    if args.doc is None:
        args.doc = (
            os.path.join(quick_dir, "benchmarks.md")
            if args.quick
            else os.path.join(REPO_ROOT, "docs", "benchmarks.md")
        )
    os.makedirs(args.results_dir, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.doc)), exist_ok=True)
    # Before JAX is imported (it reads the cache directory once).
    if args.quick:
        os.environ["PATHWAYS_JAX_BENCHMARK_KEEP_CACHE"] = "1"
        # Every program, however quick to compile: the quick run's searches and
        # workers compile the same small programs in fresh processes.
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
            cache = tempfile.mkdtemp(prefix="pathways_jax_quick_cache_")
            os.environ["JAX_COMPILATION_CACHE_DIR"] = cache
    else:
        os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
    selected = set(filter(None, args.only.split(","))) or {
        "throughput",
        "compilation",
        "scaling",
        "quality",
    }

    import numpy as np

    from benchmarks import (
        common,
        compilation,
        conv_formulation,
        efficiency,
        op_profile,
        report,
        scaling,
        throughput,
        time_to_quality,
    )
    from pathways_jax.spaces.pathway import genome as genome_lib

    common.disable_disk_cache()
    command = "python benchmarks/run.py" + (" --quick" if args.quick else "")
    if args.only:
        command += f" --only={shlex.quote(args.only)}"
    started = time.perf_counter()
    machine = common.machine()
    common.write_result("machine", {"machine": machine, "command": command}, args.results_dir)
    overrides = settings["overrides"]

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)

    if "throughput" in selected:
        log("throughput: (a) population program, (b) plain JAX, (c) PyTorch")
        result = throughput.run(
            settings["throughput_pathways"],
            settings["throughput_steps"],
            overrides=overrides,
            variants=settings["shape_class_variants"],
        )
        problem = result.pop("problem")
        log("profile: per-step seconds of each pathway in the super-network")
        result["profile"] = efficiency.step_profile(
            problem["space"],
            problem["genomes"],
            problem["keys"],
            problem["dataset"],
            settings["profile_steps"],
        )
        common.write_result("throughput", result, args.results_dir)
        log("profile: where a step's time goes, by part of the network")
        common.write_result(
            "op_profile",
            op_profile.run(
                problem["space"],
                problem["genomes"],
                problem["keys"],
                problem["dataset"],
                settings["profile_steps"],
            ),
            args.results_dir,
        )
        log("efficiency: matmul peak and FLOP counts")
        genomes, space = problem["genomes"], problem["space"]
        executed = [
            efficiency.executed_flops_per_example(space, genome_lib.index_population(genomes, i))
            for i in range(result["pathways"])
        ]
        steps, batch = result["steps"], result["batch_size"]
        warm = result["a_framework_warm"] or result["a_framework"]
        peak = efficiency.matmul_peak(settings["matmul_size"])
        useful = result["training_flops"]
        executed_total = 3.0 * float(np.sum(executed)) * batch * steps
        common.write_result(
            "efficiency",
            {
                "matmul": peak,
                "useful_training_flops": useful,
                "executed_training_flops": executed_total,
                "program_seconds": warm["seconds"],
                "useful_flops_per_second": useful / warm["seconds"],
                "executed_flops_per_second": executed_total / warm["seconds"],
                "useful_fraction_of_peak": useful / warm["seconds"] / peak["peak"],
                "executed_fraction_of_peak": executed_total / warm["seconds"] / peak["peak"],
                "executed_flops_per_example": executed,
                "torch_flops_per_second": useful / result["c_torch"]["seconds"],
            },
            args.results_dir,
        )
        log("convolution formulations in the super-network")
        common.write_result(
            "conv_formulation",
            conv_formulation.run(
                space, genomes, problem["keys"], problem["dataset"], settings["conv_steps"]
            ),
            args.results_dir,
        )
    if "compilation" in selected:
        log("compilation: searches of growing population and rounds")
        common.write_result(
            "compilation",
            compilation.run(
                settings["compile_grid"],
                settings["compile_steps"],
                int(os.environ["JAX_NUM_CPU_DEVICES"]),
                overrides,
            ),
            args.results_dir,
        )
    if "scaling" in selected:
        log("scaling: 1, 2, 4 devices")
        common.write_result(
            "scaling",
            scaling.run(
                settings["scaling_devices"],
                settings["scaling_pathways"],
                settings["scaling_steps"],
                overrides,
            ),
            args.results_dir,
        )
    if "quality" in selected:
        log("time to 94% MNIST-1D test accuracy")
        common.write_result(
            "time_to_quality",
            time_to_quality.run(
                settings["quality_seeds"],
                settings["quality_overrides"],
                int(os.environ["JAX_NUM_CPU_DEVICES"]),
            ),
            args.results_dir,
        )
    seconds = time.perf_counter() - started
    path = report.write(args.results_dir, args.doc, command, seconds, quick=args.quick)
    log(f"wrote {path} and {args.results_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
