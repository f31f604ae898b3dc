"""``DIR/report.md``: what a search found, in one page.

The report is built from the files of a workdir only: ``config.json``,
``summary.json``, ``best/genome.json``, ``history.jsonl``, ``metrics.jsonl``,
the plots (drawn here), the Pareto front of a multi-objective run
(``pareto_front.json`` and its plot) and the exported code in ``best/``. A run that has
not finished yet (no summary) gets a report of its progress so far.
"""

from __future__ import annotations

import math
import os

from pathways_jax.runs import pareto, plots, records
from pathways_jax.runs import workdir as run_workdir

REPORT_FILE = run_workdir.REPORT_FILE
TOP_K = 10
PARETO_ROWS = 10  # Pathways of the Pareto front listed in the report.


class ReportError(ValueError):
    """The workdir holds nothing to report on (the message says why)."""


def _number(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else str(value)
    return str(value)


def _cell(text: str) -> str:
    """``text`` safe inside a markdown table cell."""
    return str(text).replace("|", "\\|")


def _metrics_table(rows: dict[str, dict]) -> list[str]:
    """A markdown table with one column per metrics dict of ``rows``."""
    names = sorted({name for metrics in rows.values() for name in metrics})
    lines = [f"| metric | {' | '.join(rows)} |", f"| --- |{' --- |' * len(rows)}"]
    for name in names:
        values = [_number(metrics.get(name, "")) for metrics in rows.values()]
        lines.append(f"| {name} | {' | '.join(values)} |")
    return lines


def top_pathways(history: list[dict], count: int = TOP_K) -> list[dict]:
    """The ``count`` history records with the best validation fitness (ties to
    the older candidate); diverged candidates last."""
    return sorted(history, key=lambda r: (-r["metrics"]["fitness"], r["id"]))[:count]


def _pareto_lines(workdir: str) -> list[str]:
    """The Pareto front section of a multi-objective run (none without
    ``pareto_front.json``): its plot and its best pathways by fitness."""
    path = os.path.join(workdir, pareto.PARETO_FILE)
    if not os.path.exists(path):
        return []
    try:
        front = records.read_json(path)
    except (OSError, ValueError) as error:
        raise ReportError(f"{path} cannot be read: {error}") from None
    names = list(front["objectives"])
    members = front["front"]
    lines = ["## Pareto front", ""]
    lines += [
        f"{len(members)} pathways are not dominated on {', '.join(names)} "
        f"(hypervolume {_number(float(front['hypervolume']))}); the {min(len(members), PARETO_ROWS)}"
        " with the best fitness:",
        "",
    ]
    if os.path.exists(os.path.join(workdir, plots.PLOTS_DIR, "pareto_front.png")):
        lines = lines[:2] + ["![Pareto front](plots/pareto_front.png)", ""] + lines[2:]
    lines += [
        f"| id | {' | '.join(names)} | pathway |",
        f"| --- |{' --- |' * len(names)} --- |",
    ]
    for member in members[:PARETO_ROWS]:
        values = " | ".join(
            _number(member[name]) if name == "fitness" else f"{member[name]:,.0f}" for name in names
        )
        lines.append(f"| {member['id']} | {values} | `{_cell(member['description'])}` |")
    return [*lines, ""]


def _config_lines(config: dict) -> list[str]:
    flat = run_workdir.flatten(config)
    lines = ["| key | value |", "| --- | --- |"]
    lines += [f"| `{key}` | `{_cell(flat[key])}` |" for key in sorted(flat)]
    return lines


def _usage_lines(workdir: str) -> list[str]:
    best_dir = os.path.join(workdir, records.BEST_DIR)
    files = sorted(os.listdir(best_dir)) if os.path.isdir(best_dir) else []
    if "predict.py" not in files:
        return [
            "The best pathway has not been exported as code in this workdir "
            f"(`{records.BEST_DIR}/` holds: {', '.join(files) or 'nothing'}).",
        ]
    lines = [
        f"`{records.BEST_DIR}/` holds the best pathway as code that needs only "
        "jax, flax and numpy (files: " + ", ".join(f"`{name}`" for name in files) + "):",
        "",
        "- `model.py`: the model as a plain Flax module, with no search machinery;",
        "- `params.msgpack`: its trained weights;",
        "- `predict.py`: loads both and prints predictions for an `.npz` file "
        "(`x`, and `y` to also print the accuracy or error).",
    ]
    extras = {
        "model_torch.py": "`model_torch.py`, `weights.pt`: the same model for PyTorch;",
        "preprocessing.json": "`preprocessing.json`: how raw inputs are scaled before the model;",
        "test_split.npz": "`test_split.npz`: the test split this run reported on.",
    }
    lines += [f"- {text}" for name, text in extras.items() if name in files]
    lines += [
        "",
        "```bash",
        f"cd {os.path.abspath(best_dir)}",
    ]
    data_file = "test_split.npz" if "test_split.npz" in files else "YOUR_DATA.npz"
    lines.append(f"python predict.py --data={data_file}")
    if "model_torch.py" in files:
        lines.append(f"python predict.py --data={data_file} --framework=torch")
    lines += ["```"]
    return lines


def build_report(workdir: str) -> str:
    """The markdown text of the report of the run in ``workdir`` (draws the
    plots into ``workdir/plots`` on the way)."""
    history_path = os.path.join(workdir, records.HISTORY_FILE)
    config_path = os.path.join(workdir, records.CONFIG_FILE)
    if not os.path.exists(config_path) or not os.path.exists(history_path):
        raise ReportError(
            f"{workdir} holds no search records (config.json and history.jsonl); "
            "run experiments/search.py with --workdir first"
        )
    try:
        config = records.read_json(config_path)
        history = records.read_json_lines(history_path)
        metrics = records.read_json_lines(os.path.join(workdir, records.METRICS_FILE))
    except (OSError, ValueError) as error:
        raise ReportError(f"the records in {workdir} cannot be read: {error}") from None
    if not history:
        raise ReportError(f"{workdir} holds no evaluated candidate yet")
    summary_path = os.path.join(workdir, records.SUMMARY_FILE)
    summary = records.read_json(summary_path) if os.path.exists(summary_path) else None
    plot_paths = plots.write_plots(workdir)
    budget = config.get("budget", {}).get("evaluations", "?")

    is_pathway = config.get("space", {}).get("name", "pathway") == "pathway"
    noun = "pathway" if is_pathway else "candidate"
    retrained = bool(summary and summary["final"].get("retrained_ids"))
    stage = "retrained" if retrained else "final"
    lines = ["# Search report", ""]
    if summary is None:
        lines += [
            f"**The search is not finished**: {len(history)} of {budget} candidates "
            "evaluated. Run the search command again on this workdir to resume it.",
            "",
        ]
    else:
        data = f"Dataset: {summary['dataset']}. " if "dataset" in summary else ""
        lines += [
            f"{data}{summary['evaluations']} candidates in "
            f"{summary['rounds']} rounds, {summary['wall_seconds']:.1f} s, "
            f"{summary['compilations']} compilation(s) of the evaluator's programs"
            + (" (one per shape class used)." if is_pathway else "."),
            "",
        ]
    diverged = sum(1 for r in history if not math.isfinite(r["metrics"]["fitness"]))
    if diverged:
        lines += [f"{diverged} of {len(history)} candidates diverged (fitness -inf).", ""]

    lines += [f"## Best {noun}", ""]
    best = top_pathways(history, 1)[0]
    if summary is not None:
        how = "retrained and tested once" if retrained else "tested once"
        lines += [f"Candidate {summary['best_id']} ({how}):", ""]
        lines += [f"    {summary['best_description']}", ""]
    else:
        lines += [f"Best so far, candidate {best['id']}:", "", f"    {best['description']}", ""]
    if "best_pathway" in plot_paths:
        lines += ["![best pathway](plots/best_pathway.png)", ""]

    if summary is not None:
        final = summary["final"]
        lines += ["## Validation and test", ""]
        if final.get("how"):  # The evaluator's own account of its finish.
            lines += [final["how"], ""]
        elif final.get("retrained_ids"):
            lines += [
                f"Fitness is validation {'R²' if 'r2' in final['validation'] else 'accuracy'}. "
                f"The best {len(final['retrained_ids'])} candidates were retrained for "
                f"{final['steps']} steps; the best on validation was evaluated once on the "
                "test split.",
                "",
            ]
        else:
            lines += ["The best candidate was evaluated once on the test set.", ""]
        lines += _metrics_table(
            {
                "search (validation)": summary["search_validation"],
                f"{stage} (validation)": final["validation"],
                f"{stage} (test)": final["test"],
            }
        )
        lines.append("")

    lines += ["## Plots", ""]
    for name in ("fitness_vs_candidates", "fitness_vs_time", "fitness_per_round"):
        lines += [f"![{name.replace('_', ' ')}](plots/{plots.PLOT_FILES[name]})", ""]

    lines += _pareto_lines(workdir)
    lines += [f"## Top {TOP_K} {noun}s", ""]
    lines += [
        f"| rank | id | round | fitness | params | {noun} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rank, record in enumerate(top_pathways(history), start=1):
        lines.append(
            f"| {rank} | {record['id']} | {record['round']} | "
            f"{_number(record['metrics']['fitness'])} | {record['metrics'].get('num_params', '')} | "
            f"`{_cell(record['description'])}` |"
        )
    lines.append("")

    lines += ["## Using the exported code", ""] + _usage_lines(workdir) + [""]
    if metrics:
        lines += [
            "## Logs",
            "",
            "`metrics.jsonl` (one line per round), `history.jsonl` (one line per candidate); "
            "TensorBoard: `tensorboard --logdir " + os.path.join(workdir, "tensorboard") + "`.",
            "",
        ]
    lines += ["## Config", ""] + _config_lines(config) + [""]
    return "\n".join(lines)


def write_report(workdir: str) -> str:
    """Write ``workdir/report.md`` (atomically) and return its path."""
    text = build_report(workdir)
    path = os.path.join(workdir, REPORT_FILE)
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)
    return path
