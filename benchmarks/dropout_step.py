"""What dropout adds to a training step of the super-network.

The benchmark pathways (half convolutional, no dropout) are trained alone on
one device in the full super-network, once as drawn and once with dropout
(rate ``dropout_rates[1]``) in every block; the median milliseconds per step of
each kind are compared. Not part of ``run.py``: it measures one design choice
(how the dropout mask is drawn), not a target.

    python -m benchmarks.dropout_step '{"pathways": 8, "steps": 100}'
"""

from __future__ import annotations

import json
import sys
import time


def run(pathways: int = 8, steps: int = 100, repeats: int = 3) -> dict:
    """``{'kinds', 'without_ms', 'with_ms'}``: per pathway, best of ``repeats``."""
    from benchmarks import common

    common.disable_disk_cache()
    import jax
    import jax.numpy as jnp
    import numpy as np

    from pathways_jax import genome as genome_lib
    from pathways_jax.training import trainer

    space, dataset = common.mnist1d_problem()
    genomes = common.benchmark_pathways(space, pathways)
    with_dropout = genomes.replace(dropout=jnp.ones_like(genomes.dropout))
    settings = trainer.TrainSettings(steps=steps)
    x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    train = jax.jit(lambda g, k: trainer.train(space, settings, g, k, x_train, y_train)[1])
    key = jax.random.key(0)

    def milliseconds(population, index) -> float:
        genome = genome_lib.index_population(population, index)
        jax.block_until_ready(train(genome, key))
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            jax.block_until_ready(train(genome, key))
            best = min(best, time.perf_counter() - start)
        return 1e3 * best / steps

    kinds = [
        "conv" if np.any(np.asarray(genomes.operation[i]) == genome_lib.CONV) else "dense"
        for i in range(pathways)
    ]
    without = [milliseconds(genomes, i) for i in range(pathways)]
    with_ = [milliseconds(with_dropout, i) for i in range(pathways)]

    def median(values, kind) -> float:
        return float(np.median([v for v, k in zip(values, kinds, strict=True) if k == kind]))

    medians = {
        kind: {"without_ms": median(without, kind), "with_ms": median(with_, kind)}
        for kind in sorted(set(kinds))
    }
    return {
        "pathways": pathways,
        "steps": steps,
        "kinds": kinds,
        "without_ms": without,
        "with_ms": with_,
        "medians": medians,
    }


if __name__ == "__main__":
    arguments = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(json.dumps(run(**arguments)))
