r"""Wine (scikit-learn tabular classification) pathway search.

    python experiments/search.py --config=configs/wine.py --workdir=runs/wine

178 examples, 13 features, 3 classes. Vector inputs allow dense blocks only;
depth 0 (logistic regression, or a linear SVM with the hinge loss) is in the space.
"""

from pathways_jax.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "wine"
    config.space.max_depth = 3
    config.space.dense_widths = (16, 32, 64)
    config.space.batch_sizes = (16, 32)
    config.strategy.population_size = 16
    config.strategy.sample_size = 4
    config.budget.evaluations = 48
    config.train.steps = 300
    config.final.steps = 600
    config.parallel.round_size = 8
    return config
