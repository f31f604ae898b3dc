r"""Digits (scikit-learn 8x8 images) pathway search.

    python experiments/search.py --config=configs/digits.py --workdir=runs/digits

1797 images of 8x8 pixels, 10 classes; convolutions are 2-D here.
"""

from pathways_jax.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "digits"
    config.space.max_depth = 3
    config.space.conv_widths = (8, 16)
    config.space.dense_widths = (32, 64, 128)
    config.space.kernel_sizes = (3,)
    config.space.batch_sizes = (16, 32, 64)
    config.strategy.population_size = 16
    config.strategy.sample_size = 4
    config.budget.evaluations = 48
    config.train.steps = 300
    config.final.steps = 1000
    config.parallel.round_size = 8
    return config
