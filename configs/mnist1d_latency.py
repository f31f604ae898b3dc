r"""NSGA-II on MNIST-1D: validation accuracy against measured inference latency.

    python experiments/search.py --config=configs/mnist1d_latency.py --workdir=runs/mnist1d_latency

Every new architecture's plain network (only its chosen blocks) is compiled
and timed on this machine, batch 1, median of 30 calls; an architecture seen
before is not timed again. Writes ``latency.json`` (every measurement),
``pareto_front.json`` and ``plots/pareto_front.png`` into the workdir. Measured
times vary between machines and runs: pass a finished run's table with
``--config.strategy.latency_table=runs/mnist1d_latency/latency.json`` to repeat
a search bit for bit.
"""

import os

from pathways_jax.config import load_config_file


def get_config():
    config = load_config_file(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist1d_pareto.py")
    )
    config.strategy.objectives = ("fitness", "latency")
    return config
