"""``docs/benchmarks.md`` from the JSON files of ``benchmarks/results``.

Every figure and every verdict on a target is computed here from the
measurements; the explanations quote the profile figures they rest on.
"""

from __future__ import annotations

import datetime
import os

from benchmarks.report_format import TARGETS, _load, _table, _verdict
from benchmarks.report_scale import (
    compilation_section,
    quality_section,
    scaling_section,
)
from benchmarks.report_speed import (
    conv_section,
    efficiency_section,
    op_profile_section,
    throughput_section,
)


def _profile_sentence(ops: dict) -> str:
    """What the profile of a convolutional pathway's step says, in one sentence."""
    kind = "conv" if "conv" in ops["pathways"] else next(iter(ops["pathways"]))
    rows = {row["part"]: row for row in ops["pathways"][kind]["rows"]}
    get = lambda *parts: sum(rows[p]["total"] for p in parts if p in rows)
    total = ops["pathways"][kind]["profiled_ms_per_step"]
    products = sum(row["products"] for row in rows.values())
    runtime = get(
        "loop state (copies, control flow)",
        "waiting for the other thread",
        "launching operations",
        "other runtime",
    )
    elementwise = get("operation", "activation", "residual", "head", "embed") - products
    return (
        f" The profile of the parts of a step (section 1, {kind} pathway) says why: of "
        f"{total:.1f} ms of thread time per step, matrix products take {products:.1f} ms; "
        f"the masked layer norms take {get('norm'):.1f} ms, the blocks' other element-wise "
        f"work {elementwise:.1f} ms, the optimizer over the padded parameters "
        f"{get('optimizer'):.1f} ms, and the runtime (loop state copies, waiting between "
        f"threads, launching operations) {runtime:.1f} ms. Most of a step is memory-bound "
        "passes over the padded activation buffer and per-operation overhead, not arithmetic."
    )


def _demand_sentence(t: dict, e: dict, summary: dict) -> str:
    """What the throughput targets ask of the hardware, against what (b) and
    (c) achieve on the same pathways."""
    peak, useful = e["matmul"]["peak"], e["useful_training_flops"]
    b_rate = useful / max(summary["steady_b"], 1e-9)
    c_rate = useful / t["c_torch"]["seconds"]
    demands, multiples = [], []
    for name, seconds, factor in (
        ("(c)", t["c_torch"]["seconds"], TARGETS["a_over_c"]),
        ("(b)", t["b_plain_jax"]["seconds"], TARGETS["a_over_b"]),
    ):
        rate = useful * factor / seconds
        multiples.append(f"{rate / b_rate:.1f}x")
        demands.append(
            f"{factor:.0f}x {name} means {seconds / factor:.1f} s for all {t['pathways']} "
            f"pathways, {rate / 1e9:.0f} GFLOP/s of the pathways' own FLOPs "
            f"({100 * rate / peak:.0f}% of the peak)"
        )
    return (
        " What the throughput targets ask: "
        + "; ".join(demands)
        + f". The same FLOPs run at {100 * b_rate / peak:.1f}% of the peak in (b)'s compiled "
        f"steps, each pathway compiled for its own unpadded shapes, and at "
        f"{100 * c_rate / peak:.1f}% in PyTorch eager; so even with no padding, no compilation "
        "and no runtime overhead, the population program would have to run these small "
        f"products at {' and '.join(multiples)} the efficiency of a program compiled for "
        "each architecture."
    )


def why_section(t, e, s, summary, ops=None) -> list[str]:
    """The missed targets explained from the profile figures of this run."""
    lines = ["## Why the missed targets are missed", ""]
    if t:
        b = t["b_plain_jax"]
        kinds = [k for k in ("conv", "dense") if k in summary]
        per_kind = "; ".join(
            f"{k}: {summary[k]['a'] * 1e3:.2f} ms vs {summary[k]['b'] * 1e3:.2f} ms (b) and "
            f"{summary[k]['c'] * 1e3:.2f} ms (c)"
            for k in kinds
        )
        lines += [
            f"- **Throughput.** A step of one pathway in the super-network costs more than the "
            f"same step in its own network ({per_kind}). The population program removes "
            f"compilations ((b) paid {summary['compile_b']:.0f} s of first steps, "
            f"{100 * summary['compile_b'] / b['seconds']:.0f}% of its time), but every step "
            "it runs is a step of the padded super-network. Even with steps as cheap as "
            "(b)'s compiled steps and no compilation at all, a/b could reach only "
            f"{b['seconds'] / max(summary['steady_b'], 1e-9):.1f} (b's total time over "
            f"its {summary['steady_b']:.0f} s of compiled steps), so 50x is out of reach at "
            f"{t['steps']} steps per pathway on this machine. Shape classes narrow the "
            "buffer for the pathways that fit (median step in the narrowest class: "
            + "; ".join(
                f"{k} {summary[k]['a_class'] * 1e3:.2f} ms against {summary[k]['a'] * 1e3:.2f} ms"
                for k in kinds
            )
            + "), but a pathway with one 32-channel convolution pays for 32 channels in every "
            "block, and every class is one more compilation."
            + (_profile_sentence(ops) if ops else ""),
        ]
    if e:
        m = e["matmul"]
        lines += [
            f"- **Hardware efficiency.** {100 * e['executed_fraction_of_peak']:.1f}% of the "
            "matmul peak is executed, but only "
            f"1/{e['executed_training_flops'] / e['useful_training_flops']:.0f} of those FLOPs "
            "are the pathways' own (padding of the buffer, see section 4); the products are "
            "also small (batch 64 by at most 128 units, or 40 positions by 32 channels), far "
            f"from the {m['size']}x{m['size']} products that set the peak."
            + (_demand_sentence(t, e, summary) if t and summary else ""),
        ]
    if s:
        two = [p for p in s["points"] if p["devices"] == 2]
        one = [p for p in s["points"] if p["devices"] == 1]
        core = s.get("one_core")
        if two and two[0]["efficiency"] < TARGETS["efficiency_2"]:
            text = f"- **Scaling.** With 2 fake devices the speedup is {two[0]['speedup']:.2f}."
            if core and one:
                threads = one[0]["candidates_per_second"] / core["candidates_per_second"]
                text += (
                    " One device is not one core: its operations already run on both cores "
                    f"(XLA's intra-op threads), which makes it {threads:.2f}x as fast as the "
                    "same device pinned to one core. Two devices can at best use two whole "
                    f"cores, so their efficiency against one device is bounded by "
                    f"2 / {threads:.2f} / 2 = {100 / threads:.0f}%; against one core they "
                    f"reach {two[0]['speedup_over_one_core']:.2f}x, "
                    f"{100 * two[0]['efficiency_per_core']:.0f}% per core."
                )
            lines.append(text)
    return lines + [""]


def _load_sentence(machine: dict) -> str:
    load = machine.get("load_average_at_start")
    if load is None:
        return "The cores were shared with other work, so absolute times are noisy. "
    return (
        f"Load average when the run started: {load:.2f} on {machine.get('cores', '?')} "
        "cores; timings of the same program move by 5-20% between runs on these "
        "virtual machines. "
    )


def write(results_dir: str, doc_path: str, command: str, seconds: float, quick: bool) -> str:
    """Write the benchmark page from the results in ``results_dir``; returns its path."""
    machine = (_load(results_dir, "machine") or {}).get("machine", {})
    t = _load(results_dir, "throughput")
    e = _load(results_dir, "efficiency")
    conv = _load(results_dir, "conv_formulation")
    comp = _load(results_dir, "compilation")
    s = _load(results_dir, "scaling")
    q = _load(results_dir, "time_to_quality")
    ops = _load(results_dir, "op_profile")
    lines = [
        "# Benchmarks",
        "",
        "Produced by",
        "",
        "```bash",
        command,
        "```",
        "",
        f"on {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('platform', '?')}; Python {machine.get('python', '?')}, "
        f"jax {machine.get('jax', '?')}, torch {machine.get('torch', '?')}; "
        f"{datetime.date.today().isoformat()}, {seconds / 60:.1f} minutes in all. "
        + _load_sentence(machine)
        + "Ratios are measured back to back in the same run.",
        "",
    ]
    if quick:
        lines += ["**Quick smoke run: tiny settings, the figures mean nothing.**", ""]
    verdicts = []
    if t:
        verdicts.append(
            [
                "(a) >= 10x (c) candidates/s",
                f"{t['ratio_a_over_c']:.2f}x",
                _verdict(t["ratio_a_over_c"], TARGETS["a_over_c"]),
            ]
        )
        verdicts.append(
            [
                "(a) >= 50x (b) candidates/s",
                f"{t['ratio_a_over_b']:.2f}x",
                _verdict(t["ratio_a_over_b"], TARGETS["a_over_b"]),
            ]
        )
        diff = max(t["mean_abs_accuracy_difference"].values())
        verdicts.append(
            [
                "at equal accuracy",
                f"mean abs. difference <= {diff:.1e}",
                "met" if diff < 0.01 else "missed",
            ]
        )
    if comp:
        verdicts.append(
            [
                "compile count flat in population and rounds",
                "flat" if comp["flat"] else "grows",
                "met" if comp["flat"] else "missed",
            ]
        )
    if s:
        two = [p for p in s["points"] if p["devices"] == 2]
        if two:
            verdicts.append(
                [
                    "2-device efficiency >= 90%",
                    f"{100 * two[0]['efficiency']:.0f}%",
                    _verdict(two[0]["efficiency"], TARGETS["efficiency_2"]),
                ]
            )
    if e:
        verdicts.append(
            [
                "training program >= 30% of matmul peak",
                f"{100 * e['useful_fraction_of_peak']:.2f}% (useful FLOPs)",
                _verdict(e["useful_fraction_of_peak"], TARGETS["peak_fraction"]),
            ]
        )
    if q:
        median = q["median_seconds_to_target"]
        verdicts.append(
            [
                "94% MNIST-1D test within 10 minutes (median of seeds)",
                f"{median:.0f} s" if median is not None else "not reached",
                _verdict(median, TARGETS["seconds_to_94"], higher_is_better=False)
                if median is not None
                else "missed",
            ]
        )
    if os.path.exists(os.path.join(results_dir, "notes.md")):
        verdicts = [
            row[:2] + [row[2] + " (read the notes at the end)"]
            if row[0].startswith(("(a) >= 10x", "2-device", "94%"))
            else row
            for row in verdicts
        ]
    lines += ["## Targets", ""] + _table(["target", "measured", "verdict"], verdicts)
    summary = {}
    if t:
        section, summary = throughput_section(t)
        lines += section
    if ops:
        lines += op_profile_section(ops)
    if comp:
        lines += compilation_section(comp)
    if s:
        lines += scaling_section(s)
    if e:
        lines += efficiency_section(e)
    if conv:
        lines += conv_section(conv)
    if q:
        lines += quality_section(q)
    lines += why_section(t, e, s, summary, ops)
    notes_path = os.path.join(results_dir, "notes.md")
    if os.path.exists(notes_path):
        with open(notes_path) as handle:
            lines += ["## Notes on this run", "", handle.read().strip(), ""]
    os.makedirs(os.path.dirname(os.path.abspath(doc_path)), exist_ok=True)
    with open(doc_path, "w") as handle:
        handle.write("\n".join(lines).rstrip() + "\n")
    return doc_path
