r"""PathNet on binary tasks of scikit-learn's digits, with salt-and-pepper noise.

    python experiments/search.py --config=configs/pathnet_digits.py --workdir=runs/pathnet_digits

Clean digit pairs are learnt in a few rounds, so 20% of the input values are
replaced by their minimum or maximum, as the paper made binary MNIST harder.
Paper settings otherwise (see configs/pathnet_mnist1d.py).
"""

import os

from pathways_jax.config import load_config_file


def get_config():
    here = os.path.dirname(os.path.abspath(__file__))
    config = load_config_file(os.path.join(here, "pathnet_mnist1d.py"))
    config.dataset.name = "digits"
    config.evaluator.tasks = ((3, 8), (5, 9))
    config.evaluator.noise = 0.2
    return config
