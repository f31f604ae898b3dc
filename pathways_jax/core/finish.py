"""The end of a search: ``best/genome.json``, the exported best, ``summary.json``,
the Pareto front of a multi-objective run, and the report."""

from __future__ import annotations

import os

from absl import logging

from pathways_jax.runs import compilations, pareto, records, report
from pathways_jax.runs.plots import PLOT_FILES
from pathways_jax.runs.workdir import PLOTS_DIR

BEST_DRAWING = PLOT_FILES["best_pathway"]


def finish(experiment, files, log, final, chosen, params, num_rounds, seconds, command) -> dict:
    """Write the best candidate (and its export) and return the summary."""
    space, strategy, evaluator = experiment.space, experiment.strategy, experiment.evaluator
    data = getattr(evaluator, "data", None)
    if files.writes:
        best = {
            "id": chosen["id"],
            "description": chosen["description"],
            "genome": chosen["genome"],
            "search_validation": chosen["metrics"],
            "final": final,
        }
        if hasattr(space, "spec"):
            best["space"] = space.spec()
        records.write_json(files.path(records.BEST_GENOME_FILE), best)
        if hasattr(space, "draw"):
            plots_dir = files.path(PLOTS_DIR)
            os.makedirs(plots_dir, exist_ok=True)
            space.draw(space.from_json(chosen["genome"]), os.path.join(plots_dir, BEST_DRAWING))
        if hasattr(space, "export") and params is not None:
            space.export(
                files.path(records.BEST_DIR),
                chosen,
                params,
                final=final,
                data=data,
                command=command,
            )
    total_compilations, compile_seconds = compilations.backend_compilations()
    summary = {
        "best_id": chosen["id"],
        "best_description": chosen["description"],
        "search_validation": chosen["metrics"],
        "final": final,
        "evaluations": log.evaluated,
        "rounds": num_rounds,
        "wall_seconds": round(seconds, 3),
        "compilations": evaluator.compilations,
        "xla_compilations": total_compilations,
        "xla_compile_seconds": round(compile_seconds, 3),
    }
    if data is not None:
        summary["dataset"] = data.summary()
    if files.writes and len(strategy.objective_names) > 1:
        front = pareto.write_pareto_front(files.workdir, strategy.objective_names)
        summary["pareto_front_size"] = len(front["front"])
        summary["hypervolume"] = front["hypervolume"]
    return summary


def write_summary(files, summary: dict, with_report: bool) -> None:
    """``summary.json`` (the run is complete from here on), then the report."""
    if not files.writes:
        return
    records.write_json(files.path(records.SUMMARY_FILE), summary)
    if with_report:
        write_report(files.workdir)


def write_report(workdir: str) -> None:
    """Plots and ``report.md`` of a finished search; a failure to draw them is
    logged, not raised (the search itself is complete)."""
    try:
        logging.info("Report: %s", report.write_report(workdir))
    except (OSError, ValueError, RuntimeError) as error:
        logging.warning("The report could not be written: %s", error)
