r"""A tiny ListOps search in the space with attention blocks, for tests.

python experiments/search.py --config=tests/configs/tiny_attention.py --workdir=/tmp/tiny
"""

from pathways_jax.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "listops"
    config.dataset.num_examples = 300
    config.dataset.sequence_length = 16
    config.dataset.nesting_depth = 2
    config.space.max_depth = 3
    config.space.conv_widths = (4, 8)
    config.space.dense_widths = (8,)
    config.space.kernel_sizes = (3,)
    config.space.attention_heads = (1, 2)
    config.space.mlp_ratios = (2,)
    config.space.patch_sizes = (2,)
    config.space.batch_sizes = (8, 16)
    config.strategy.population_size = 8
    config.strategy.sample_size = 2
    config.budget.evaluations = 12
    config.train.steps = 8
    config.final.steps = 8
    config.final.top_k = 2
    config.parallel.round_size = 4
    return config
