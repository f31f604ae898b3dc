"""Specialised networks and exported code for single genomes.

``to_source(space, genome, target)`` gives the source of a standalone Flax or
PyTorch module; ``export_pathway`` writes code, weights and a runnable
``predict.py`` into a directory.
"""

from pathways_jax.codegen.export import export_pathway
from pathways_jax.codegen.plain_network import (
    PlainNetwork,
    build_plain_network,
    decode_blocks,
    plain_params_from_supernet,
)
from pathways_jax.codegen.recipe import Recipe, decode_recipe
from pathways_jax.codegen.source_text import block_diagram
from pathways_jax.codegen.sources import TARGETS, to_source
from pathways_jax.codegen.weights import flax_params_bytes, torch_state_dict

__all__ = [
    "TARGETS",
    "PlainNetwork",
    "Recipe",
    "block_diagram",
    "build_plain_network",
    "decode_blocks",
    "decode_recipe",
    "export_pathway",
    "flax_params_bytes",
    "plain_params_from_supernet",
    "to_source",
    "torch_state_dict",
]
