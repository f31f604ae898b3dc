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


def run(pathways: int = 8, steps: int = 100) -> dict:
    """Per pathway, milliseconds per step without and with dropout, and the
    median of each kind (``conv`` / ``dense``)."""
    from benchmarks import common

    common.disable_disk_cache()
    import jax.numpy as jnp
    import numpy as np

    from benchmarks import efficiency, throughput

    space, dataset = common.mnist1d_problem()
    genomes = common.benchmark_pathways(space, pathways)
    with_dropout = genomes.replace(dropout=jnp.ones_like(genomes.dropout))
    keys = throughput.training_keys(pathways)
    indices = list(range(pathways))
    kinds = common.pathway_kinds(genomes)
    milliseconds = {}
    for name, population in (("without_ms", genomes), ("with_ms", with_dropout)):
        seconds = efficiency.seconds_per_step(space, population, keys, dataset, steps, indices)
        milliseconds[name] = [1e3 * seconds[i] for i in indices]

    def median(values, kind) -> float:
        return float(np.median([v for v, k in zip(values, kinds, strict=True) if k == kind]))

    medians = {
        kind: {name: median(values, kind) for name, values in milliseconds.items()}
        for kind in sorted(set(kinds))
    }
    return {
        "pathways": pathways,
        "steps": steps,
        "kinds": kinds,
        **milliseconds,
        "medians": medians,
    }


if __name__ == "__main__":
    arguments = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(json.dumps(run(**arguments)))
