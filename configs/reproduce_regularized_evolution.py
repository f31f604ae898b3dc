r"""Real et al. 2019 on MNIST-1D: regularized vs non-aging tournament vs random search.

    python experiments/reproduce_regularized_evolution.py \
        --config=configs/reproduce_regularized_evolution.py --workdir=runs/repro_re

Every strategy gets the same budget of candidates, the same training and the
same seeds; only the selection differs. The shared search settings are those
of ``configs/mnist1d.py`` with a shorter training per candidate, so that
3 strategies x 5 seeds fit in well under an hour on 2 CPU cores.
"""

import os

import ml_collections

from pathways_jax.config import load_config_file


def get_config():
    config = load_config_file(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist1d.py")
    )
    config.budget.evaluations = 80
    config.train.steps = 150
    config.final.steps = 150
    config.final.top_k = 1
    config.strategy.population_size = 16
    config.strategy.sample_size = 4
    config.strategy.equivalence_cache = False  # Every candidate is trained, as in the paper.
    config.progress.report = False
    config.progress.bar = False
    config.reproduction = ml_collections.ConfigDict()
    config.reproduction.strategies = ("regularized", "tournament", "random")
    config.reproduction.seeds = (0, 1, 2, 3, 4)
    return config
