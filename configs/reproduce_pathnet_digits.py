r"""PathNet transfer on binary tasks of scikit-learn's digits with salt-and-pepper noise.

    python experiments/reproduce_pathnet.py --config=configs/reproduce_pathnet_digits.py \
        --workdir=runs/repro_pathnet_digits --name=pathnet_digits

Images closer to the paper's binary MNIST than MNIST-1D's sequences: 8x8
digits, half of the pixels replaced by black or white (noise 0.5), so that a
task is not learnt in a handful of rounds. Otherwise as
configs/reproduce_pathnet.py.
"""

from pathways_jax.reproductions.pathnet import default_config


def get_config():
    config = default_config()
    config.dataset.name = "digits"
    config.evaluator.noise = 0.5
    config.reproduction.pairs = (((3, 8), (5, 9)), ((1, 7), (4, 6)), ((0, 2), (8, 9)))
    config.reproduction.repetitions = 10
    return config
