r"""Population-based training on MNIST-1D (Jaderberg et al. 2017).

    python experiments/search.py --config=configs/mnist1d_pbt.py --workdir=runs/mnist1d_pbt

16 members with architectures drawn from the default MNIST-1D space train in
intervals of 100 steps; after each interval the worst 20% copy the weights and
genes of one of the best 20% and perturb its training genes (learning rate
x0.8 or x1.2, batch size, weight decay and L1 resampled with probability 0.25).
24 intervals: 384 member-intervals, 38,400 training steps in all (the default
regularized-evolution search spends 51,200 on 128 candidates of 400 steps,
plus their retraining). The result is the best member's own weights; nothing
is retrained.
"""

import os

from pathways_jax.config import load_config_file


def get_config():
    config = load_config_file(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist1d.py")
    )
    config.strategy.name = "pbt"
    config.strategy.population_size = 16
    config.strategy.equivalence_cache = False  # A member's fitness depends on its weights.
    config.parallel.round_size = 16
    config.budget.evaluations = 16 * 24
    config.train.steps = 100  # Steps per interval.
    return config
