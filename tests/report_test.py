"""What a search shows: TensorBoard scalars, progress, plots, the report, and
the reasons candidates diverged."""

import io
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from matplotlib import image

from pathways_jax import api
from pathways_jax.runs import diagram, pareto, plots, progress, records, report, scalars
from tests.search_test import VECTOR_CONFIG, _load_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny finished search (5 rounds of 4 candidates) with its report."""
    workdir = str(tmp_path_factory.mktemp("finished"))
    config = _load_config(VECTOR_CONFIG)
    summary = api.run_search(config, workdir)
    return workdir, summary


def _scalar_events(workdir, logdir="tensorboard"):
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(os.path.join(workdir, logdir))
    accumulator.Reload()
    return accumulator


def test_tensorboard_reader_loads_every_round(finished_run):
    workdir, _ = finished_run
    accumulator = _scalar_events(workdir)
    expected = set(scalars.TAGS.values()) - set(scalars.MULTI_OBJECTIVE_TAGS)
    assert set(accumulator.Tags()["scalars"]) == expected
    metrics = records.read_json_lines(os.path.join(workdir, records.METRICS_FILE))
    best = accumulator.Scalars("fitness/best")
    assert [event.step for event in best] == [4, 8, 12, 16, 20]
    assert [event.value for event in best] == pytest.approx([m["best_fitness"] for m in metrics])
    steps = accumulator.Scalars("speed/training_steps")
    # Steps of candidates actually trained (cache hits train nothing).
    assert [event.value for event in steps] == [m["training_steps"] for m in metrics]
    assert steps[0].value == 4 * 30


def test_scalar_writer_writes_hypervolume_and_cache_hit_rate(tmp_path):
    """The fields of multi-objective and cached runs become scalars; a field
    missing from a line (hypervolume of a single-objective run) is skipped."""
    writer = scalars.ScalarWriter(str(tmp_path))
    line = {"best_fitness": 0.5, "cache_hits": 1, "cache_hit_rate": 0.25, "repaired": 0}
    writer.write(4, {**line, "hypervolume": 0.125})
    writer.write(8, {**line, "cache_hits": 3, "cache_hit_rate": 0.5, "hypervolume": 0.375})
    writer.write(12, line)
    writer.close()
    accumulator = _scalar_events(str(tmp_path.parent), str(tmp_path.name))
    values = lambda tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
    assert values("search/hypervolume") == [(4, 0.125), (8, 0.375)]
    assert values("cache/hit_rate") == [(4, 0.25), (8, 0.5), (12, 0.25)]
    assert values("cache/hits") == [(4, 1.0), (8, 3.0), (12, 1.0)]
    assert values("search/repaired") == [(4, 0.0), (8, 0.0), (12, 0.0)]


def test_search_draws_plots_and_writes_the_report(finished_run):
    workdir, summary = finished_run
    for name in plots.PLOT_FILES.values():
        picture = image.imread(os.path.join(workdir, "plots", name))
        assert picture.ndim == 3 and picture.shape[0] > 100 and picture.shape[1] > 100
        assert np.std(picture) > 0.01  # Not a blank canvas.
    with open(os.path.join(workdir, report.REPORT_FILE), encoding="utf-8") as file:
        text = file.read()
    for section in (
        "## Best pathway",
        "## Validation and test",
        "## Plots",
        "## Top 10 pathways",
        "## Using the exported code",
        "## Config",
    ):
        assert section in text
    assert summary["best_description"] in text
    for link in ("plots/best_pathway.png", "plots/fitness_vs_candidates.png"):
        assert f"({link})" in text and os.path.exists(os.path.join(workdir, link))
    table = text.split("## Top 10 pathways")[1].split("##")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 10
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    fitness = sorted((r["metrics"]["fitness"] for r in history), reverse=True)[:10]
    assert [row.split(" | ")[3] for row in rows] == [f"{f:.4f}" for f in fitness]
    assert "`strategy.population_size` | `6`" in text
    assert f"{summary['final']['test']['accuracy']:.4f}" in text


def test_report_shows_the_pareto_front_of_a_multi_objective_run(finished_run, tmp_path):
    """With ``pareto_front.json`` (written at the end of an nsga2 search; here
    from the records of a finished run) the report shows the front's plot and
    a table of its pathways; without it there is no such section."""
    workdir = str(tmp_path / "run")
    shutil.copytree(finished_run[0], workdir)
    assert "## Pareto front" not in report.build_report(workdir)
    front = pareto.write_pareto_front(workdir, ("fitness", "params"))
    text = report.build_report(workdir)
    section = text.split("## Pareto front")[1].split("\n## ")[0]
    assert "![Pareto front](plots/pareto_front.png)" in section
    assert os.path.exists(os.path.join(workdir, "plots", "pareto_front.png"))
    assert "| id | fitness | params | pathway |" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()]
    shown = front["front"][: report.PARETO_ROWS]
    assert [int(row.split(" | ")[0][2:]) for row in rows] == [m["id"] for m in shown]
    assert rows[0].split(" | ")[1] == f"{shown[0]['fitness']:.4f}"
    assert f"{len(front['front'])} pathways are not dominated on fitness, params" in section


def test_report_command(finished_run, tmp_path):
    workdir, _ = finished_run
    os.remove(os.path.join(workdir, report.REPORT_FILE))
    env = dict(os.environ, PYTHONPATH=REPO)
    command = [sys.executable, os.path.join(REPO, "experiments", "report.py")]
    result = subprocess.run(
        [*command, f"--workdir={workdir}"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert os.path.exists(os.path.join(workdir, report.REPORT_FILE))
    result = subprocess.run(
        [*command, f"--workdir={tmp_path}"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "report.py: error:" in result.stderr and "no search records" in result.stderr


def test_pathway_description_is_parsed_into_boxes(tmp_path):
    description = (
        "conv1d(k5,32)+gelu → conv1d(k3,32)+relu+ln+res+drop0.1 → dense(10) "
        "| adam lr=3.0e-03 cosine batch=64 loss=xent"
    )
    blocks, training = diagram.parse_description(description)
    assert blocks == [
        diagram.Block("conv1d(k5,32)", ("gelu",)),
        diagram.Block("conv1d(k3,32)", ("relu", "layer norm", "dropout 0.1"), residual=True),
        diagram.Block("dense(10)"),
    ]
    assert training == ["adam", "lr=3.0e-03", "cosine", "batch=64", "loss=xent"]
    diagram.draw_pathway(description, str(tmp_path / "pathway.png"))
    assert image.imread(str(tmp_path / "pathway.png")).shape[0] > 100


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_and_rate_limited_log_lines():
    text = progress.progress_text(2, 5, 8, 20, 0.875, 2.0, bar=True)
    assert text.startswith("[" + "#" * 9 + "." * 15 + "]")
    assert "round 2/5" in text and "8/20 candidates" in text and "best 0.8750" in text
    assert "2.00 cand/s" in text and "ETA 0:00:06" in text

    now = [0.0]
    terminal = _Terminal()
    bar = progress.Progress(3, 12, stream=terminal, clock=lambda: now[0])
    for round_index in (1, 2, 3):
        now[0] += 2.0
        bar.update(round_index, 4 * round_index, 0.5)
    output = terminal.getvalue()
    assert output.count("\r") == 3 and output.endswith("\n") and "12/12" in output

    now[0] = 0.0
    logged = progress.Progress(
        10, 40, stream=io.StringIO(), log_every_seconds=5.0, clock=lambda: now[0]
    )
    for round_index in range(1, 11):
        now[0] += 1.0
        logged.update(round_index, 4 * round_index, 0.5)
    # Rounds 1, 6 and the last one: at most one line every 5 seconds, and the end.
    assert logged.lines_logged == 3


def test_divergence_reasons():
    assert api.divergence_reason(0.5, False, 0.9) is None
    assert "training loss" in api.divergence_reason(float("nan"), True, float("-inf"))
    assert "parameters" in api.divergence_reason(0.5, True, float("-inf"))
    assert "validation" in api.divergence_reason(0.5, False, float("-inf"))


def test_search_where_every_candidate_diverges(tmp_path):
    """Features of size 1e20, not standardised: every candidate's loss or
    validation metric overflows. The command says so in one line and exits
    non-zero; the records stay, each with its reason."""
    rng = np.random.default_rng(0)
    data_file = tmp_path / "huge.npz"
    np.savez(
        data_file,
        x=(rng.standard_normal((60, 3)) * 1e20).astype(np.float32),
        y=(rng.standard_normal(60) * 1e20).astype(np.float32),
    )
    workdir = tmp_path / "run"
    command = [
        sys.executable,
        os.path.join(REPO, "experiments", "search.py"),
        f"--config={VECTOR_CONFIG}",
        f"--workdir={workdir}",
        f"--config.dataset.name=npz:{data_file}",
        "--config.dataset.task=regression",
        "--config.dataset.standardize=False",
        "--config.budget.evaluations=8",
    ]
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "every one of the 8 candidates diverged" in errors[0]
    assert "log10_learning_rate_max" in errors[0] and "standardize" in errors[0]
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    assert len(history) == 8
    assert all(r["metrics"]["fitness"] == float("-inf") and r["metrics"]["reason"] for r in history)
    metrics = records.read_json_lines(os.path.join(workdir, records.METRICS_FILE))
    assert sum(m["diverged"] for m in metrics) == sum(r["metrics"]["diverged"] for r in history)
