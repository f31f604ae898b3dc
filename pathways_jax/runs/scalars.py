"""Per-round scalars as TensorBoard event files (``DIR/tensorboard``).

Each round of a search writes one value per tag at step = candidates evaluated
so far, so runs with different round sizes share an x axis. A resumed run
opens a new event file with ``purge_step`` just after its checkpoint's step:
TensorBoard then drops the events an interrupted session wrote past that
checkpoint.

A tag is written only when its field is in the line: ``hypervolume`` is there
for multi-objective runs only (strategy ``nsga2``).
"""

from __future__ import annotations

import os
import sys

# metrics.jsonl field -> TensorBoard tag.
TAGS = {
    "best_fitness": "fitness/best",
    "median_fitness": "fitness/median",
    "round_best_fitness": "fitness/round_best",
    "candidates_per_second": "speed/candidates_per_second",
    "training_steps": "speed/training_steps",
    "compilations": "compile/population_program",
    "xla_compilations": "compile/xla",
    "diverged": "search/diverged",
    "round": "search/round",
    "hypervolume": "search/hypervolume",
    "cache_hits": "cache/hits",
    "cache_hit_rate": "cache/hit_rate",
    "repaired": "search/repaired",
}
# Tags of multi-objective runs only.
MULTI_OBJECTIVE_TAGS = ("search/hypervolume",)


def _summary_writer_class():
    """tensorboardX's ``SummaryWriter``, imported without PyTorch.

    tensorboardX imports torch whenever it is installed (to accept tensors),
    which adds about a second to the start of every search process; scalars
    need none of it. While tensorboardX is first imported, ``import torch``
    fails as if torch were absent, and torch stays importable afterwards.
    """
    if "tensorboardX" in sys.modules or "torch" in sys.modules:
        from tensorboardX import SummaryWriter

        return SummaryWriter
    sys.modules["torch"] = None  # ``import torch`` raises ImportError.
    try:
        from tensorboardX import SummaryWriter
    finally:
        del sys.modules["torch"]
    return SummaryWriter


class ScalarWriter:
    """Writes the :data:`TAGS` fields of a metrics line; a no-op when
    ``enabled`` is False (processes other than 0)."""

    def __init__(self, logdir: str, enabled: bool = True, purge_step: int | None = None):
        self._writer = None
        if enabled:
            os.makedirs(logdir, exist_ok=True)
            self._writer = _summary_writer_class()(logdir, purge_step=purge_step or None)

    def write(self, step: int, line: dict) -> None:
        """One scalar per tag of ``line`` (non-finite values included) at ``step``."""
        if self._writer is None:
            return
        for field, tag in TAGS.items():
            if field in line:
                self._writer.add_scalar(tag, float(line[field]), global_step=step)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
