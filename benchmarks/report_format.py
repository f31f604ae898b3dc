"""Formatting shared by the sections of ``docs/benchmarks.md``: the targets,
loading a result file, verdicts, markdown tables."""

from __future__ import annotations

import json
import os

import numpy as np

TARGETS = {
    "a_over_c": 10.0,
    "a_over_b": 50.0,
    "efficiency_2": 0.90,
    "peak_fraction": 0.30,
    "seconds_to_94": 600.0,
}


def _load(directory: str, name: str) -> dict | None:
    path = os.path.join(directory, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def _verdict(value: float | None, target: float, higher_is_better: bool = True) -> str:
    if value is None:
        return "missed (not reached)"
    met = value >= target if higher_is_better else value <= target
    if met:
        return "met"
    factor = target / value if higher_is_better else value / target
    return f"missed by {factor:.2f}x" if factor < 1.1 else f"missed by {factor:.1f}x"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _median_by_kind(values, kinds, kind) -> float:
    return float(np.median([v for v, k in zip(values, kinds, strict=True) if k == kind]))


def _accuracy_agreement(label: str, t: dict) -> str:
    """How far a shape-class variant's accuracies are from (a)'s."""
    choice = label.split("'")[1]
    variant = t["a_shape_class_variants"][choice]
    difference = np.abs(np.subtract(variant["accuracy"], t["a_framework"]["accuracy"]))
    return f"max. abs. difference from (a): {float(np.max(difference)):.1e}"
