r"""MNIST-1D pathway search (the default).

    python experiments/search.py --config=configs/mnist1d.py --workdir=runs/mnist1d

MNIST-1D (Greydanus 2020): 4000 train / 1000 test sequences of length 40,
10 classes, generated locally. Reference test accuracies: logistic regression
32%, MLP 68%, CNN 94%. The space holds all three: depth 0 is logistic
regression, dense blocks make an MLP, convolutions make a CNN.
"""

from pathways_jax.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "mnist1d"
    config.space.max_depth = 4
    config.space.conv_widths = (8, 16, 32)
    config.space.dense_widths = (32, 64, 128)
    config.space.kernel_sizes = (3, 5)
    config.space.batch_sizes = (32, 64)
    config.space.dropout_rates = (0.0, 0.1)
    config.space.log10_learning_rate_min = -3.0
    config.space.log10_learning_rate_max = -1.5
    config.strategy.population_size = 16
    config.strategy.sample_size = 4
    config.budget.evaluations = 128
    config.train.steps = 400
    config.final.steps = 3000
    config.parallel.round_size = 8
    return config
