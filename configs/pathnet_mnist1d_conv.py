r"""PathNet on binary MNIST-1D tasks with convolutional modules.

    python experiments/search.py --config=configs/pathnet_mnist1d_conv.py --workdir=runs/pathnet_conv

Each module is a 1-D convolution of 8 channels (kernel 5, SAME) and ReLU; the
readout reads the flattened [40, 8] map. Otherwise as configs/pathnet_mnist1d.py.
"""

import os

from pathways_jax.config import load_config_file


def get_config():
    here = os.path.dirname(os.path.abspath(__file__))
    config = load_config_file(os.path.join(here, "pathnet_mnist1d.py"))
    config.space.module_kind = "conv"
    config.space.units = 8
    return config
