"""A pathway in one readable line, from its decoded genes.

``conv1d(k5,32)+gelu → dense(10) | adam lr=3.0e-03 cosine batch=32 loss=xent``:
blocks in order (operation, its table choices, activation, ``+ln``,
``+res`` where the residual acts, ``+drop`` rate; attention and MLP blocks
show their pre-norm first as ``ln+``), then the training genes.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import (
    ACTIVATIONS,
    AVG_POOL,
    CONV,
    DENSE,
    IDENTITY,
    MAX_POOL,
    NORMALIZATIONS,
    OPTIMIZERS,
    PATCH_EMBEDDING,
    POSITION_EMBEDDING,
    SCHEDULES,
    SELF_ATTENTION,
    SEQUENCE_READOUTS,
    TRANSFORMER_MLP,
    PathwayGenome,
)


def describe(space, genome: PathwayGenome) -> str:
    """One readable line for one genome of the pathway ``space``."""
    g = jax.device_get(genome)
    shapes = jax.device_get(_jitted_block_shapes(space)(genome))
    suffix = {"sequence": "1d", "image": "2d", "vector": ""}[space.input_kind]
    parts = []
    for block in range(space.tables.max_depth):
        op = int(g.operation[block])
        if op == IDENTITY:
            continue
        tables, option = space.tables, int(g.kernel_size[block])
        widths = tables.conv_widths
        width = widths[int(g.width[block]) % len(widths)]
        if op == CONV:
            kernel = tables.kernel_sizes[option % len(tables.kernel_sizes)]
            text = f"conv{suffix}(k{kernel},{width})"
        elif op == DENSE:
            widths = tables.dense_widths
            text = f"dense({widths[int(g.width[block]) % len(widths)]})"
        elif op in (MAX_POOL, AVG_POOL):
            text = f"{'max' if op == MAX_POOL else 'avg'}_pool{suffix}"
        elif op == SELF_ATTENTION:
            heads = tables.attention_heads[option % len(tables.attention_heads)]
            text = f"attention(h{heads},{width})"
        elif op == TRANSFORMER_MLP:
            text = f"mlp(x{tables.mlp_ratios[option % len(tables.mlp_ratios)]})"
        elif op == POSITION_EMBEDDING:
            text = "position"
        elif op == PATCH_EMBEDDING:
            text = f"patch(p{tables.patch_sizes[option % len(tables.patch_sizes)]},{width})"
        else:
            text = f"{SEQUENCE_READOUTS[option % len(SEQUENCE_READOUTS)]}_pool"
        normalized = NORMALIZATIONS[int(g.normalization[block])] == "layer_norm"
        if op in (SELF_ATTENTION, TRANSFORMER_MLP):  # Pre-norm; the MLP's hidden activation.
            text = ("ln+" if normalized else "") + text
            if op == TRANSFORMER_MLP:
                text += f"+{ACTIVATIONS[int(g.activation[block])]}"
        else:
            text += f"+{ACTIVATIONS[int(g.activation[block])]}"
            if normalized:
                text += "+ln"
        if space.residual_is_active(shapes, g, block, space.tables.attention):
            text += "+res"
        rate = space.tables.dropout_rates[int(g.dropout[block])]
        if rate > 0:
            text += f"+drop{rate:g}"
        parts.append(text)
    parts.append(f"dense({space.num_outputs})")
    if space.input_groups:
        parts.insert(0, f"inputs({int(np.sum(g.input_mask))}/{space.num_input_groups})")
    training = [
        OPTIMIZERS[int(g.optimizer)],
        f"lr={10.0 ** float(g.log10_learning_rate):.1e}",
        SCHEDULES[int(g.schedule)],
    ]
    decay = space.tables.weight_decays[int(g.weight_decay)]
    if decay > 0:
        training.append(f"wd={decay:.0e}")
    l1 = space.tables.l1_penalties[int(g.l1_penalty)]
    if l1 > 0:
        training.append(f"l1={l1:.0e}")
    training.append(f"batch={space.tables.batch_sizes[int(g.batch_size)]}")
    training.append(f"loss={genome_lib.losses_for_task(space.task)[int(g.loss)]}")
    return " → ".join(parts) + " | " + " ".join(training)


@functools.lru_cache(maxsize=32)
def _jitted_block_shapes(space):
    """``space.block_shapes`` compiled once per space (describing a genome
    eagerly dispatches dozens of small operations)."""
    return jax.jit(space.block_shapes)
