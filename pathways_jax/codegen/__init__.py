"""Specialised networks and exported code for single genomes."""

from pathways_jax.codegen.plain_network import (
    PlainNetwork,
    build_plain_network,
    decode_blocks,
    plain_params_from_supernet,
)

__all__ = [
    "PlainNetwork",
    "build_plain_network",
    "decode_blocks",
    "plain_params_from_supernet",
]
