"""What the loop remembers of a search and writes per round: history lines,
the best candidate, the finalists, and the line of ``metrics.jsonl``."""

from __future__ import annotations

import jax
import numpy as np

from pathways_jax.core import genomes, objectives


def metric_rows(columns: dict, num_real: int) -> list[dict]:
    """Per-candidate metric dicts of host ``columns`` (name → ``[round_size]``)
    for the first ``num_real`` candidates: bools stay bools, integers ints,
    the rest floats."""

    def value(column, index):
        item = np.asarray(column)[index]
        if item.dtype == np.bool_:
            return bool(item)
        if np.issubdtype(item.dtype, np.integer):
            return int(item)
        return float(item)

    return [{name: value(column, i) for name, column in columns.items()} for i in range(num_real)]


def is_cache_hit(record: dict) -> bool:
    """Whether a history record inherited its metrics from a cache."""
    return "cache_hit_of" in record or "behaviour_hit_of" in record


def history_lines(space, plan, metrics: list[dict], ids, round_index: int) -> list[dict]:
    """The ``history.jsonl`` records of a round's evaluated children."""
    host_children = jax.device_get(plan.children)
    host_parents = np.asarray(plan.parents)
    lines = []
    for index, record in enumerate(metrics):
        child = genomes.index_population(host_children, index)
        lines.append(
            {
                "id": int(ids[index]),
                "round": round_index,
                "parents": [int(p) for p in host_parents[index] if p >= 0],
                "genome": space.to_json(child),
                "description": space.describe(child),
                "metrics": record,
                **plan.notes[index],
            }
        )
    return lines


def _best_of(record: dict) -> dict:
    return {
        "fitness": record["metrics"]["fitness"],
        "id": record["id"],
        "genes": record["genome"],
        "description": record["description"],
        "metrics": record["metrics"],
    }


class RoundLog:
    """Counts, the best candidate, the ``top_k`` finalists and the newest
    records of a search; its :meth:`progress` goes into every checkpoint."""

    def __init__(self, top_k: int):
        self.top_k = top_k
        self.evaluated = 0
        self.training_steps = 0
        self.best = {
            "fitness": -np.inf,
            "id": -1,
            "genes": None,
            "description": "",
            "metrics": None,
        }
        self.finalists: list[tuple] = []
        self.latest: dict[int, dict] = {}

    @property
    def best_fitness(self) -> float:
        return self.best["fitness"]

    def resume(self, progress: dict, kept: list[dict], evaluator) -> None:
        self.evaluated = progress["evaluated"]
        self.best = progress["best"]
        self.finalists = [(r["metrics"]["fitness"], -r["id"], r) for r in progress["finalists"]]
        self.training_steps = sum(evaluator.steps_of(record) for record in kept)
        rounds = max((record["round"] for record in kept), default=-1)
        self.latest = {record["id"]: record for record in kept if record["round"] == rounds}

    def keep_latest(self, alive_ids) -> None:
        """Forget the newest records of candidates no longer in the population
        (a search of millions keeps only the population's)."""
        alive = {int(i) for i in alive_ids if i >= 0}
        self.latest = {i: record for i, record in self.latest.items() if i in alive}

    def progress(self) -> dict:
        return {
            "evaluated": self.evaluated,
            "best": self.best,
            "finalists": self.finalist_records(),
        }

    def finalist_records(self) -> list[dict]:
        return [record for _, _, record in self.finalists]

    def add_round(self, lines: list[dict], evaluator) -> None:
        self.training_steps += sum(evaluator.steps_of(record) for record in lines)
        self.latest.update((record["id"], record) for record in lines)
        for record in lines:
            self.finalists.append((record["metrics"]["fitness"], -record["id"], record))
            if record["metrics"]["fitness"] > self.best["fitness"]:
                self.best = _best_of(record)
        self.finalists = sorted(self.finalists, key=lambda item: item[:2], reverse=True)
        self.finalists = self.finalists[: self.top_k]
        self.evaluated += len(lines)

    def round_line(self, round_index, strategy, state, plan, lines, round_stages):
        """The round's ``metrics.jsonl`` line (timing fields are the loop's)."""
        alive = np.asarray(state.fitness)[np.asarray(state.birth) >= 0]
        finite = alive[np.isfinite(alive)]
        fitness = [record["metrics"]["fitness"] for record in lines]
        line = {
            "round": round_index,
            "evaluations": self.evaluated,
            "best_fitness": self.best["fitness"],
            "round_best_fitness": float(np.max(fitness)),
            "median_fitness": float(np.median(finite)) if finite.size else float("-inf"),
            "diverged": sum(bool(r["metrics"].get("diverged", False)) for r in lines),
            "training_steps": self.training_steps,
            "cache_hits": plan.num_cache_hits,
            "cache_hit_rate": 0.0,
            "repaired": sum("repaired" in r for r in lines),
            **objectives.round_hypervolume(strategy.objective_names, state),
        }
        for stage in round_stages:
            if hasattr(stage, "round_metrics"):
                line.update(stage.round_metrics())
        return line
