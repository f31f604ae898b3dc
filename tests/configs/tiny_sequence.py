r"""A tiny MNIST-1D search for tests (seconds to run, one small compile).

python experiments/search.py --config=tests/configs/tiny_sequence.py --workdir=/tmp/tiny
"""

from pathways_jax.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "mnist1d"
    config.dataset.max_examples = 256
    config.space.max_depth = 2
    config.space.conv_widths = (4, 8)
    config.space.dense_widths = (8,)
    config.space.kernel_sizes = (3,)
    config.space.batch_sizes = (8, 16)
    config.strategy.population_size = 4
    config.strategy.sample_size = 2
    config.budget.evaluations = 10
    config.train.steps = 8
    config.final.steps = 8
    config.final.top_k = 2
    config.parallel.round_size = 3
    return config
