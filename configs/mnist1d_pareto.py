r"""NSGA-II on MNIST-1D: validation accuracy against parameter count.

    python experiments/search.py --config=configs/mnist1d_pareto.py --workdir=runs/mnist1d_pareto

Writes the final Pareto front of every evaluated pathway to
``pareto_front.json`` and ``plots/pareto_front.png`` in the workdir, and the
population's hypervolume per round to ``metrics.jsonl``. Add ``'flops'`` to
``strategy.objectives`` for a third objective.
"""

import os

from pathways_jax.config import load_config_file


def get_config():
    config = load_config_file(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist1d.py")
    )
    config.strategy.name = "nsga2"
    config.strategy.objectives = ("fitness", "params")
    config.strategy.population_size = 24
    config.budget.evaluations = 160
    return config
