r"""A tiny iris search for tests.

python experiments/search.py --config=tests/configs/tiny_vector.py --workdir=/tmp/tiny
"""

from pathways_jax.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "iris"
    config.space.max_depth = 2
    config.space.dense_widths = (8, 16)
    config.space.batch_sizes = (8, 16)
    config.strategy.population_size = 6
    config.strategy.sample_size = 3
    config.budget.evaluations = 20
    config.train.steps = 30
    config.final.steps = 30
    config.parallel.round_size = 4
    return config
