r"""PathNet on binary MNIST-1D tasks, with the paper's settings.

    python experiments/pathnet.py --config=configs/pathnet_mnist1d.py --workdir=runs/pathnet

L=3 layers of M=10 dense modules of 20 ReLU units, at most N=3 active per
layer, population 64, binary tournaments, T=50 minibatches of 16 per
pathway evaluation, fitness = training accuracy over those minibatches, and a
task is learnt when that accuracy reaches 0.998 (Fernando et al. 2017).
"""

from pathways_jax.pathnet.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "mnist1d"
    config.tasks = ((2, 7), (4, 9))
    return config
