"""Small helpers shared by the source emitters: literals, docstrings, diagrams."""

from __future__ import annotations

import numpy as np

from pathways_jax.codegen.recipe import Recipe


def float_literal(value: float) -> str:
    """The shortest literal that reads back as the same float32, e.g. ``0.0031622776``."""
    value = np.float32(value)
    if value == 0:
        return "0.0"
    if 1e-3 <= abs(value) < 1e4:
        return np.format_float_positional(value, unique=True, trim="0")
    return np.format_float_scientific(value, unique=True, trim="0", exp_digits=1)


def shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def block_label(recipe: Recipe, block: dict) -> str:
    """A short label of one block, e.g. ``conv1d k5 → 32 channels, layer norm, gelu``."""
    suffix = {"sequence": "1d", "image": "2d", "vector": ""}[recipe.input_kind]
    op = block["op"]
    if op == "conv":
        parts = [f"conv{suffix} k{block['kernel']} → {block['width']} channels"]
    elif op == "dense":
        parts = [f"dense → {block['width']} units"]
    elif op == "self_attention":
        parts = [f"self-attention {block['heads']} heads → {block['width']} channels"]
    elif op == "transformer_mlp":
        parts = [f"transformer MLP {block['hidden']} hidden, {block['hidden_activation']}"]
    elif op == "position_embedding":
        parts = ["position embedding"]
    elif op == "patch_embedding":
        parts = [f"patch embedding {block['patch']} → {block['width']} channels"]
    elif op == "sequence_pool":
        parts = [f"{block['readout']} of the positions → vector"]
    else:
        parts = [f"{op.replace('_', ' ')}{suffix} 2"]
    if block["norm"] == "layer_norm":
        parts.insert(0 if block.get("norm_first") else len(parts), "layer norm")
    if block["activation"] != "identity":
        parts.append(block["activation"])
    if block["dropout"] > 0:
        parts.append(f"dropout {block['dropout']:g}")
    return ", ".join(parts)


def block_diagram(recipe: Recipe) -> str:
    """A text block diagram of the network, one box per line, shapes per example.

    Example::

        input                                  [40, 1]
          │
        block0  conv1d k5 → 32 channels, relu  [40, 32]
          │ ╰─ + residual from the block's input
        head    dense → 10                     [10]
    """
    rows = [("input", "", recipe.input_shape, False)]
    for block in recipe.blocks:
        rows.append(
            (
                f"block{block['index']}",
                block_label(recipe, block),
                block["out_shape"],
                block["residual"],
            )
        )
    head = (
        "dense → 1 prediction"
        if recipe.task == "regression"
        else f"dense → {recipe.num_outputs} logits"
    )
    rows.append(("head", head, (recipe.num_outputs,), False))
    label_width = max(len(name) + 2 + len(label) for name, label, _, _ in rows)
    lines = []
    for position, (name, label, shape, residual) in enumerate(rows):
        if position:
            lines.append("  │")
        text = f"{name}  {label}" if label else name
        lines.append(f"{text.ljust(label_width)}  {shape_text(shape)}")
        if residual:
            lines.append("  ╰─ + residual: the block's input is added to its output")
    return "\n".join(lines)


def metrics_text(metrics: dict | None) -> str:
    """``accuracy=0.9780 loss=0.2289`` from a metrics dict (fitness left out)."""
    if not metrics:
        return "not measured"
    names = sorted(name for name in metrics if name != "fitness")
    return " ".join(f"{name}={float(metrics[name]):.4f}" for name in names)


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


LINE_LENGTH = 88  # The default of black and ruff format.


def call_lines(indent: int, opening: str, arguments: list[str], closing: str = ")") -> list[str]:
    """A call laid out as ``ruff format`` lays it out.

    ``opening`` ends with ``(``, e.g. ``"loss = loss_fn("``. One line if it
    fits; else the arguments on one indented line if they fit; else one
    argument per line with a trailing comma.
    """
    pad = " " * indent
    joined = ", ".join(arguments)
    single = f"{pad}{opening}{joined}{closing}"
    if len(single) <= LINE_LENGTH:
        return [single]
    if len(pad) + 4 + len(joined) <= LINE_LENGTH:
        return [f"{pad}{opening}", f"{pad}    {joined}", f"{pad}{closing}"]
    return [f"{pad}{opening}", *(f"{pad}    {a}," for a in arguments), f"{pad}{closing}"]


def tuple_literal(values) -> str:
    """``(40, 1)`` or ``(5,)``."""
    items = [str(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def module_constants(recipe: Recipe) -> list[str]:
    """The constants at the top of an exported module (training settings included)."""
    constants = [
        f"INPUT_SHAPE = {tuple_literal(recipe.input_shape)}",
        f"NUM_OUTPUTS = {recipe.num_outputs}",
        f"TRAIN_STEPS = {recipe.steps}",
        f"BATCH_SIZE = {recipe.batch_size}",
        f"LEARNING_RATE = {float_literal(recipe.learning_rate)}",
    ]
    if recipe.input_mask is not None:
        chosen = sum(recipe.input_mask)
        constants.append(
            f"# The input features this pathway reads ({chosen} of {len(recipe.input_mask)}); "
            "the others are multiplied by 0."
        )
        constants.append(f"INPUT_MASK = {tuple_literal(recipe.input_mask)}")
    if recipe.schedule == "warmup_cosine":
        constants.append(f"WARMUP_STEPS = {recipe.warmup_steps}")
    if recipe.weight_decay > 0:
        constants.append(f"WEIGHT_DECAY = {float_literal(recipe.weight_decay)}")
    if recipe.l1_penalty > 0:
        constants.append(f"L1_PENALTY = {float_literal(recipe.l1_penalty)}")
    if recipe.loss == "xent_smooth":
        constants.append("LABEL_SMOOTHING = 0.1")
    if recipe.loss == "huber":
        constants.append("HUBER_DELTA = 1.0")
    return constants
