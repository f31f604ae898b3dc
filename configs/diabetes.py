r"""Diabetes (scikit-learn tabular regression) pathway search.

    python experiments/search.py --config=configs/diabetes.py --workdir=runs/diabetes

442 examples, 10 features, a real-valued target (standardised with training
statistics). Fitness is validation R²; losses are MSE or Huber; depth 0 is
linear regression.
"""

from pathways_jax.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "diabetes"
    config.space.max_depth = 3
    config.space.dense_widths = (16, 32, 64)
    config.space.batch_sizes = (16, 32, 64)
    config.strategy.population_size = 16
    config.strategy.sample_size = 4
    config.budget.evaluations = 48
    config.train.steps = 300
    config.final.steps = 600
    config.parallel.round_size = 8
    return config
