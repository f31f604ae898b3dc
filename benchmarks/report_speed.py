"""The speed sections of ``docs/benchmarks.md``: throughput against plain JAX
and PyTorch, the profile of a step, efficiency against the matmul peak, and
the convolution formulations."""

from __future__ import annotations

import numpy as np

from benchmarks.report_format import _accuracy_agreement, _median_by_kind, _table


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
