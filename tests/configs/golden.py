r"""Small versions of the shipped configs whose same-seed histories are kept
as golden files (``tests/golden/``): a refactor must reproduce them byte for byte.

    python experiments/search.py --config=tests/configs/golden.py:digits --workdir=/tmp/golden

Variants: ``mnist1d`` (the default search), ``digits``, ``pbt`` and ``nsga2``
(``configs/mnist1d_pbt.py`` and ``configs/mnist1d_pareto.py``), each with a
tiny space, a few candidates and a few training steps.
"""

import os

from pathways_jax.config import load_config_file

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "configs")
SOURCES = {
    "mnist1d": "mnist1d.py",
    "digits": "digits.py",
    "pbt": "mnist1d_pbt.py",
    "nsga2": "mnist1d_pareto.py",
}


def get_config(variant: str = "mnist1d"):
    config = load_config_file(os.path.join(CONFIGS, SOURCES[variant]))
    config.seed = 3
    config.dataset.max_examples = 256
    config.space.max_depth = 3
    config.space.conv_widths = (4, 8)
    config.space.dense_widths = (8, 16)
    config.train.steps = 6
    config.final.steps = 6
    config.progress.report = False
    config.progress.bar = False
    population = 4 if variant == "pbt" else 6
    config.strategy.population_size = population
    config.strategy.sample_size = 2
    config.parallel.round_size = 4
    config.budget.evaluations = 12
    config.checkpoint.every_rounds = 1
    if variant == "pbt":
        config.budget.evaluations = 12  # Three intervals of 4 members.
    if variant == "nsga2":
        config.strategy.crossover_probability = 0.5
    if variant == "mnist1d":
        config.strategy.crossover_probability = 0.5
        config.strategy.crossover_kind = "uniform"
    return config
