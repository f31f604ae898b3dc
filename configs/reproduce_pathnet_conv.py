r"""PathNet transfer on binary MNIST-1D tasks with convolutional modules.

    python experiments/reproduce_pathnet.py --config=configs/reproduce_pathnet_conv.py \
        --workdir=runs/repro_pathnet_conv --name=pathnet_conv

Each module is a 1-D convolution of 8 channels (kernel 5, SAME) and ReLU
(configs/pathnet_mnist1d_conv.py): features that generalise far better on
MNIST-1D than 20-unit dense modules. One task pair, 10 repetitions; otherwise
as configs/reproduce_pathnet.py.
"""

from pathways_jax.reproductions.pathnet import default_config


def get_config():
    config = default_config()
    config.dataset.name = "mnist1d"
    config.space.module_kind = "conv"
    config.space.units = 8
    # One pair: a repetition of conv modules takes about a minute on 2 CPU cores.
    config.reproduction.pairs = (((2, 7), (4, 9)),)
    config.reproduction.repetitions = 10
    return config
