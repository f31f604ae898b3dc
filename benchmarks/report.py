"""``docs/benchmarks.md`` from the JSON files of ``benchmarks/results``.

Every figure and every verdict on a target is computed here from the
measurements; the explanations quote the profile figures they rest on.
"""

from __future__ import annotations

import datetime
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


def throughput_section(t: dict) -> tuple[list[str], dict]:
    a, b, c = t["a_framework"], t["b_plain_jax"], t["c_torch"]
    warm = t.get("a_framework_warm")
    kinds = t["kinds"]
    acc = t["test_accuracy"]
    lines = [
        "## 1. Throughput: the same pathways, three ways",
        "",
        f"{t['pathways']} pathways drawn with a fixed seed from the MNIST-1D space "
        f"({t['conv_pathways']} with a convolution, the others dense/pooling), each trained "
        f"{t['steps']} Adam steps (learning rate 10^-2.5, constant) on batches of "
        f"{t['batch_size']}, then evaluated on the 1000 test examples. All three start from "
        "the same initial weights and see the same minibatches.",
        "",
        "- **(a)** pathways_jax: the population program over "
        f"{a['devices']} device(s) with the search's default shape classes "
        f"(`parallel.shape_classes='{a.get('shape_classes', 'none')}'`: "
        + ", ".join(f"{n} {name}" for name, n in a.get("class_counts", {}).items())
        + f"), {a['compilations']} compiled program(s); *cold* includes their compilation, "
        "*warm* is a second call of the compiled programs. The rows *all* and *none* "
        "train the same pathways with every shape class and with one program.",
        f"- **(b)** plain JAX: the pathway's Flax module + optax, one `jax.jit` per distinct "
        f"architecture ({b['distinct_architectures']}), a Python loop over steps.",
        f"- **(c)** PyTorch eager: the emitted module and `train_step`, {c['threads']} threads.",
        "- (d) Optuna driving (c) is not measured: it would add its own overhead to (c).",
        "",
    ]
    rows = [
        [
            f"(a) shape classes '{a.get('shape_classes', 'none')}' (default), cold",
            a["seconds"],
            a["candidates_per_second"],
            acc["a"],
        ],
    ]
    if warm:
        rows.append(
            [
                f"(a) shape classes '{a.get('shape_classes', 'none')}' (default), warm",
                warm["seconds"],
                warm["candidates_per_second"],
                acc["a"],
            ]
        )
    for choice, variant in t.get("a_shape_class_variants", {}).items():
        label = f"(a) shape classes '{choice}' ({variant['compilations']} program(s))"
        rows.append([label + ", cold", variant["seconds"], variant["candidates_per_second"], None])
        if variant.get("warm"):
            w = variant["warm"]
            rows.append([label + ", warm", w["seconds"], w["candidates_per_second"], None])
    rows += [
        ["(b) plain JAX, jit per architecture", b["seconds"], b["candidates_per_second"], acc["b"]],
        ["(c) PyTorch eager", c["seconds"], c["candidates_per_second"], acc["c"]],
    ]
    lines += _table(
        ["", "seconds", "candidates/s", "mean test acc. (conv / other)"],
        [
            [
                r[0],
                f"{r[1]:.1f}",
                f"{r[2]:.3f}",
                f"{r[3]['mean']:.4f} ({r[3]['conv']:.4f} / {r[3]['dense']:.4f})"
                if r[3]
                else _accuracy_agreement(r[0], t),
            ]
            for r in rows
        ],
    )
    diff = t["mean_abs_accuracy_difference"]
    lines += [
        f"Ratios measured in this run: **a/b = {t['ratio_a_over_b']:.2f}**, "
        f"**a/c = {t['ratio_a_over_c']:.2f}** (cold (a); warm: "
        + (
            f"a/b = {warm['candidates_per_second'] / b['candidates_per_second']:.2f}, "
            f"a/c = {warm['candidates_per_second'] / c['candidates_per_second']:.2f})."
            if warm
            else "not measured)."
        ),
        "",
        "Same work: the mean absolute difference of per-pathway test accuracy is "
        f"{diff['a-b']:.2e} between (a) and (b), {diff['a-c']:.2e} between (a) and (c), "
        f"{diff['b-c']:.2e} between (b) and (c).",
        "",
    ]
    # Profile: per-step seconds by kind.
    profile = t["profile"]["step_seconds"]
    flops = np.asarray(t["forward_flops_per_example"])
    b_steps = b["step_seconds"]
    c_steps = c["step_seconds"]
    compile_b = float(np.sum(b["first_step_seconds"]))
    steady_b = float(np.sum(b_steps)) * (t["steps"] - 1)
    in_class = t["profile"].get("class_step_seconds", profile)
    profile_rows = []
    summary = {"compile_b": compile_b, "steady_b": steady_b}
    for kind in ("conv", "dense"):
        if kind not in kinds:
            continue
        pa = _median_by_kind(profile, kinds, kind)
        pa_class = _median_by_kind(in_class, kinds, kind)
        pb = _median_by_kind(b_steps, kinds, kind)
        pc = _median_by_kind(c_steps[1:], kinds[1:], kind) if len(kinds) > 1 else c_steps[0]
        summary[kind] = {"a": pa, "a_class": pa_class, "b": pb, "c": pc}
        profile_rows.append(
            [
                kind if kind == "conv" else "dense / pooling only",
                f"{pa * 1e3:.2f}",
                f"{pa_class * 1e3:.2f}",
                f"{pb * 1e3:.2f}",
                f"{pc * 1e3:.2f}",
                f"{pa / pb:.1f}x",
                f"{pa / pc:.1f}x",
                f"{_median_by_kind(flops, kinds, kind) / 1e6:.3f}",
            ]
        )
    lines += [
        "### Profile: where the time goes",
        "",
        f"Median milliseconds per training step of one pathway: (a) the super-network alone "
        f"on one device ({t['profile']['steps']} steps, one compiled program for every genome), "
        "and in the narrowest shape class that holds the pathway, "
        "(b) the jitted step after its compilation, (c) the eager step.",
        "",
    ]
    lines += _table(
        [
            "pathways",
            "(a) ms/step",
            "(a) in its class",
            "(b) ms/step",
            "(c) ms/step",
            "a/b",
            "a/c",
            "useful MFLOP/example fwd",
        ],
        profile_rows,
    )
    lines += [
        f"(b) spent {compile_b:.1f} s in its first steps (compilation, "
        f"{compile_b / t['pathways']:.2f} s per pathway) and {steady_b:.1f} s in the "
        f"other steps; (a) compiled {a['compilations']} program(s).",
        "",
    ]
    return lines, summary


def op_profile_section(p: dict) -> list[str]:
    """Where a step's time goes, per part of the network and pass."""
    lines = [
        "### Profile: the parts of a step",
        "",
        f"One pathway of each kind trained alone in the super-network for {p['steps']} "
        "steps on one device, recorded with `jax.profiler.trace`; every operation's self "
        "time is attributed through its `op_name` to the named scope of the part it "
        "belongs to (`benchmarks/op_profile.py`). Milliseconds per step of thread time "
        "(both cores together, so a part's figure can exceed its share of the wall time); "
        "*products* is the part of the total spent in matrix products.",
        "",
    ]
    for kind, profile in p["pathways"].items():
        lines += [
            f"**{kind}**: `{profile['description']}`; {profile['wall_ms_per_step']:.2f} ms "
            f"per step of wall time, {profile['profiled_ms_per_step']:.2f} ms of thread time "
            "under the profiler.",
            "",
        ]
        total = max(profile["profiled_ms_per_step"], 1e-12)
        lines += _table(
            ["part", "forward", "backward", "other", "products", "total", "share"],
            [
                [
                    row["part"],
                    f"{row['forward']:.2f}",
                    f"{row['backward']:.2f}",
                    f"{row['other']:.2f}",
                    f"{row['products']:.2f}",
                    f"{row['total']:.2f}",
                    f"{100 * row['total'] / total:.0f}%",
                ]
                for row in profile["rows"]
                if row["total"] >= 0.005
            ],
        )
    return lines


def efficiency_section(e: dict) -> list[str]:
    m = e["matmul"]
    lines = [
        "## 4. Hardware efficiency",
        "",
        f"Matmul peak (float32, {m['size']}x{m['size']}): one device "
        f"{m['one_device'] / 1e9:.1f} GFLOP/s, all {m['devices']} devices at once "
        f"{m['all_devices'] / 1e9:.1f} GFLOP/s, torch {m['torch'] / 1e9:.1f} GFLOP/s; "
        f"peak = **{m['peak'] / 1e9:.1f} GFLOP/s**.",
        "",
    ]
    lines += _table(
        ["", "training FLOPs", "FLOP/s", "of peak"],
        [
            [
                "useful (the pathways' own shapes, fwd+bwd = 3x fwd)",
                f"{e['useful_training_flops']:.3g}",
                f"{e['useful_flops_per_second'] / 1e9:.2f} G",
                f"{100 * e['useful_fraction_of_peak']:.2f}%",
            ],
            [
                "executed by the super-network (padded buffer)",
                f"{e['executed_training_flops']:.3g}",
                f"{e['executed_flops_per_second'] / 1e9:.2f} G",
                f"{100 * e['executed_fraction_of_peak']:.2f}%",
            ],
            [
                "PyTorch eager (c), useful",
                f"{e['useful_training_flops']:.3g}",
                f"{e['torch_flops_per_second'] / 1e9:.2f} G",
                f"{100 * e['torch_flops_per_second'] / m['peak']:.2f}%",
            ],
        ],
    )
    lines += [
        f"The super-network executes {e['executed_training_flops'] / e['useful_training_flops']:.0f}x "
        "the useful FLOPs: every activation lives in the fixed buffer, so a convolution of a "
        "few channels runs with the maximum channel count on both sides, and the first dense "
        "block and the read-out read the whole flattened buffer (input length x maximum "
        "channels) rather than the pathway's own features.",
        "",
    ]
    return lines


def conv_section(c: dict) -> list[str]:
    f = c["formulations"]
    lines = [
        "### Convolution formulation in the super-network",
        "",
        f"{c['pathways']} convolutional pathways, {c['steps']} steps each, one device:",
        "",
    ]
    lines += _table(
        ["formulation", "median ms/step"],
        [[name, f"{v['median_step_seconds'] * 1e3:.2f}"] for name, v in f.items()],
    )
    ratio = c["lax_conv_over_patches_matmul"]
    better = "patches + matmul (kept)" if ratio >= 1 else "lax.conv"
    lines += [
        f"`lax.conv_general_dilated` takes {ratio:.2f}x the time of patches + matmul; "
        f"largest output difference {c['max_output_difference']:.1e}. Faster: {better}.",
        "",
    ]
    return lines


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
