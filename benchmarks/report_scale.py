"""The compilation, scaling and time-to-quality sections of ``docs/benchmarks.md``."""

from __future__ import annotations

from benchmarks.report_format import _table


def compilation_section(c: dict) -> list[str]:
    lines = [
        "## 2. Compilation",
        "",
        f"Complete MNIST-1D searches ({c['steps']} training and retraining steps, rounds of 8, "
        f"{c['devices']} devices), each in a fresh process. *Program* counts traces of the "
        "population program; *XLA* counts every backend compilation of the process "
        "(ask, tell, retraining, evaluation, export included).",
        "",
    ]
    lines += _table(
        [
            "population",
            "rounds",
            "candidates",
            "program compilations",
            "XLA compilations",
            "XLA compile s",
            "wall s",
        ],
        [
            [
                p["population"],
                p["rounds"],
                p["evaluations"],
                p["population_program"],
                p["xla"],
                f"{p['xla_seconds']:.1f}",
                f"{p['wall_seconds']:.1f}",
            ]
            for p in c["points"]
        ],
    )
    lines += [f"Flat across the grid: **{'yes' if c['flat'] else 'no'}**.", ""]
    return lines


def scaling_section(s: dict) -> list[str]:
    lines = [
        "## 3. Device scaling",
        "",
        f"{s['pathways']} pathways x {s['steps']} steps, warm program, fake CPU devices on "
        f"{s['cores']} cores. Efficiency = speedup over one device / devices. One device "
        "already runs its operations on every core (XLA's intra-op threads), so the table "
        "also compares with one device pinned to one core: per core = speedup over that "
        "point / min(devices, cores).",
        "",
    ]
    rows = []
    core = s.get("one_core")
    if core:
        rows.append(
            ["1, pinned to one core", f"{core['warm_seconds']:.2f}"]
            + [f"{core['candidates_per_second']:.3f}", "", "", "1.00", "100%"]
        )
    for p in s["points"]:
        rows.append(
            [
                p["devices"],
                f"{p['warm_seconds']:.2f}",
                f"{p['candidates_per_second']:.3f}",
                f"{p['speedup']:.2f}",
                f"{100 * p['efficiency']:.0f}%",
                f"{p['speedup_over_one_core']:.2f}" if core else "",
                f"{100 * p['efficiency_per_core']:.0f}%",
            ]
        )
    lines += _table(
        [
            "devices",
            "seconds",
            "candidates/s",
            "speedup",
            "efficiency",
            "speedup over one core",
            "per core",
        ],
        rows,
    )
    lines += [
        "Identical fitness on every device count: "
        f"**{'yes' if s['identical_results'] else 'no'}**."
        + ("" if s["identical_results"] else " " + _fitness_differences(s)),
        "",
    ]
    return lines


def _fitness_differences(s: dict) -> str:
    """Which runs' fitness differs from one device's, and by how much."""
    base = s["points"][0]["fitness"]
    others = [(f"{p['devices']} devices", p) for p in s["points"][1:]]
    if s.get("one_core"):
        others.append(("one device pinned to one core", s["one_core"]))
    parts = []
    for name, point in others:
        differing = [
            (i, a, b) for i, (a, b) in enumerate(zip(base, point["fitness"], strict=True)) if a != b
        ]
        if not differing:
            parts.append(f"{name}: the same")
        else:
            largest = max(abs(a - b) for _, a, b in differing)
            parts.append(
                f"{name}: {len(differing)} of {len(base)} pathways differ "
                f"(at most {largest:.4f} in validation accuracy)"
            )
    return "Against one device, " + "; ".join(parts) + "."


def quality_section(q: dict) -> list[str]:
    lines = [
        "## 5. Time to 94% MNIST-1D test accuracy",
        "",
        "Each seed is a complete search with `configs/mnist1d.py`"
        + (f" and {q['overrides']}" if q["overrides"] else "")
        + f" on {q['devices']} devices, in a fresh process: compile, evolve, retrain the best, "
        "test once. The test split is seen only at the end, so the time to 94% is the wall "
        "time of the whole search when its final test accuracy is at least 94%.",
        "",
    ]
    lines += _table(
        ["seed", "wall s", "test acc.", "validation acc.", "reached 94%", "best pathway"],
        [
            [
                r["seed"],
                f"{r['wall_seconds']:.1f}",
                f"{r['test_accuracy']:.4f}",
                f"{r['validation_accuracy']:.4f}",
                "yes" if r["reached"] else "no",
                f"`{r['best_description']}`",
            ]
            for r in q["seeds"]
        ],
    )
    median = q["median_seconds_to_target"]
    reached = sum(r["reached"] for r in q["seeds"])
    lines += [
        f"Reached by {reached} of {len(q['seeds'])} seeds. Median seconds to 94% (a seed "
        "that did not reach it counts as infinitely slow): **"
        + (f"{median:.0f} s" if median is not None else "not reached by the median seed")
        + "**.",
        "",
    ]
    return lines
