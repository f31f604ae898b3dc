r"""ListOps pathway search with attention blocks.

    python experiments/search.py --config=configs/listops.py --workdir=runs/listops

ListOps (:mod:`pathways_jax.data.listops`): 4000 nested list expressions such
as ``[MAX 2 9 [MIN 4 7 ] 0 ]`` of at most 48 one-hot tokens; the label is the
expression's value (10 classes, each about 10%). The space holds
convolutions and pooling as in ``configs/mnist1d.py`` and the attention
blocks: self-attention with 2 or 4 heads, transformer MLPs, position and
patch embeddings, and mean or first-position pools.
``--config.space.attention_heads='()'`` searches the same space without them.
"""

from pathways_jax.config import default_config


def get_config():
    config = default_config()
    config.dataset.name = "listops"
    config.dataset.num_examples = 4000
    config.dataset.sequence_length = 48
    config.dataset.nesting_depth = 3
    config.space.max_depth = 4
    config.space.conv_widths = (16, 32)
    config.space.dense_widths = (32, 64)
    config.space.kernel_sizes = (3, 5)
    config.space.attention_heads = (2, 4)
    config.space.mlp_ratios = (2, 4)
    config.space.patch_sizes = (2, 4)
    config.space.batch_sizes = (32, 64)
    config.space.dropout_rates = (0.0, 0.1)
    config.space.log10_learning_rate_min = -3.0
    config.space.log10_learning_rate_max = -1.5
    config.strategy.population_size = 16
    config.strategy.sample_size = 4
    config.budget.evaluations = 64
    config.train.steps = 400
    config.final.steps = 2000
    config.parallel.round_size = 8
    return config
