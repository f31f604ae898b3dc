r"""PathNet on binary tasks of scikit-learn's digits, with salt-and-pepper noise.

    python experiments/pathnet.py --config=configs/pathnet_digits.py --workdir=runs/pathnet_digits

Clean digit pairs are learnt in a few rounds, so 20% of the input values are
replaced by their minimum or maximum, as the paper made binary MNIST harder.
Paper settings otherwise (see configs/pathnet_mnist1d.py).
"""

from pathways_jax.pathnet.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "digits"
    config.tasks = ((3, 8), (5, 9))
    config.noise = 0.2
    return config
