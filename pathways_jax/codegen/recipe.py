"""A genome decoded on the host into everything an emitter needs.

:func:`decode_recipe` checks a genome gene by gene (shapes, ranges, finite
values, the space's validity rules) and turns it into plain Python values:
the active blocks (:func:`~pathways_jax.codegen.plain_network.decode_blocks`)
and the training genes read from their tables. Emitters only ever see a
:class:`Recipe`, so exported code is built from table entries, never from
free strings.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from pathways_jax.codegen.plain_network import decode_blocks, input_mask
from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import OPTIMIZERS, SCHEDULES, PathwayGenome
from pathways_jax.spaces.pathway.space import PathwaySpace
from pathways_jax.training import optimizers


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One pathway as plain values.

    Attributes:
      description: the one-line description of the genome.
      input_kind: ``'sequence'``, ``'image'`` or ``'vector'``.
      input_shape: per-example input shape, e.g. ``(40, 1)``.
      task: ``'classification'`` or ``'regression'``.
      num_outputs: classes, or 1 for regression.
      blocks: active blocks, see ``decode_blocks``.
      optimizer: a name of ``OPTIMIZERS``.
      learning_rate: peak learning rate.
      schedule: a name of ``SCHEDULES``.
      warmup_steps: warm-up length of ``warmup_cosine`` (0 otherwise).
      weight_decay, l1_penalty: coefficients (0 means none).
      batch_size: examples per step.
      loss: a name of the task's loss table.
      steps: training steps the schedule spans.
      input_mask: with feature selection, 0/1 per input feature (the
        features the pathway reads); None when it reads every input.
    """

    description: str
    input_kind: str
    input_shape: tuple[int, ...]
    task: str
    num_outputs: int
    blocks: tuple[dict[str, Any], ...]
    optimizer: str
    learning_rate: float
    schedule: str
    warmup_steps: int
    weight_decay: float
    l1_penalty: float
    batch_size: int
    loss: str
    steps: int
    input_mask: tuple[int, ...] | None = None

    @property
    def has_dropout(self) -> bool:
        return any(block["dropout"] > 0 for block in self.blocks)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Per-example shape of the state the read-out reads."""
        return self.blocks[-1]["out_shape"] if self.blocks else self.input_shape


def check_genome_arrays(space: PathwaySpace, genome: PathwayGenome) -> None:
    """Raise ``ValueError`` naming the first gene of ``genome`` with a wrong
    shape, a non-finite value or a value outside its table."""
    depth = space.tables.max_depth
    cardinalities = space.tables.gene_cardinalities(space.task)
    for field in dataclasses.fields(PathwayGenome):
        name = field.name
        if name == genome_lib.INPUT_MASK:
            mask = getattr(genome, name)
            if bool(space.input_groups) != (mask is not None) or (
                mask is not None and np.asarray(mask).shape != (space.num_input_groups,)
            ):
                raise ValueError(
                    f"gene input_mask does not fit the space's {space.num_input_groups} input groups"
                )
            continue
        value = np.asarray(getattr(genome, name))
        expected = (depth,) if name in genome_lib.BLOCK_GENES else ()
        if value.shape != expected:
            raise ValueError(f"gene {name} has shape {value.shape}, expected {expected}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"gene {name} is not finite: {value.tolist()}")
        if name == "log10_learning_rate":
            low, high = space.tables.log10_learning_rate_range
            if not low <= float(value) <= high:
                raise ValueError(f"gene {name}={float(value)} is outside [{low}, {high}]")
            continue
        if not np.all(value == np.round(value)):
            raise ValueError(f"gene {name} is not an integer: {value.tolist()}")
        if np.any(value < 0) or np.any(value >= cardinalities[name]):
            raise ValueError(
                f"gene {name} is out of range: {value.tolist()} (expected 0..{cardinalities[name] - 1})"
            )


def decode_recipe(space: PathwaySpace, genome: PathwayGenome, steps: int) -> Recipe:
    """The :class:`Recipe` of one genome trained for ``steps`` steps.

    Raises:
      ValueError: naming the gene, if the genome is corrupted or invalid.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    check_genome_arrays(space, genome)
    blocks = decode_blocks(space, genome)
    genes = {name: np.asarray(getattr(genome, name)) for name in genome_lib.TRAINING_GENES}
    tables = space.tables
    schedule = SCHEDULES[int(genes["schedule"])]
    return Recipe(
        description=space.describe(genome),
        input_kind=space.input_kind,
        input_shape=tuple(int(n) for n in space.input_shape),
        task=space.task,
        num_outputs=int(space.num_outputs),
        blocks=tuple(blocks),
        optimizer=OPTIMIZERS[int(genes["optimizer"])],
        learning_rate=float(np.float32(10.0) ** genes["log10_learning_rate"].astype(np.float32)),
        schedule=schedule,
        warmup_steps=optimizers.warmup_steps(steps) if schedule == "warmup_cosine" else 0,
        weight_decay=float(tables.weight_decays[int(genes["weight_decay"])]),
        l1_penalty=float(tables.l1_penalties[int(genes["l1_penalty"])]),
        batch_size=int(tables.batch_sizes[int(genes["batch_size"])]),
        loss=genome_lib.losses_for_task(space.task)[int(genes["loss"])],
        steps=steps,
        input_mask=input_mask(space, genome),
    )
