r"""PathNet transfer (Fernando et al. 2017) on binary MNIST-1D tasks.

    python experiments/reproduce_pathnet.py --config=configs/reproduce_pathnet.py \
        --workdir=runs/repro_pathnet

The paper's binary MNIST settings (configs/pathnet_mnist1d.py), three pairs of
tasks, 10 repetitions of each of the four settings per pair.
"""

from pathways_jax.reproductions.pathnet import default_config


def get_config():
    config = default_config()
    config.dataset.name = "mnist1d"
    config.reproduction.pairs = (((2, 7), (4, 9)), ((0, 6), (3, 5)), ((1, 8), (2, 3)))
    config.reproduction.repetitions = 10
    return config
