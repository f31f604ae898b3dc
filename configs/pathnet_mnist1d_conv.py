r"""PathNet on binary MNIST-1D tasks with convolutional modules.

    python experiments/pathnet.py --config=configs/pathnet_mnist1d_conv.py --workdir=runs/pathnet_conv

Each module is a 1-D convolution of 8 channels (kernel 5, SAME) and ReLU; the
readout reads the flattened [40, 8] map. Otherwise as configs/pathnet_mnist1d.py.
"""

from pathways_jax.pathnet.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "mnist1d"
    config.tasks = ((2, 7), (4, 9))
    config.space.module_kind = "conv"
    config.space.units = 8
    return config
