"""The pathway space: a model recipe (blocks and training genes) as a genome.

- :mod:`.genome`: the gene tables and the fixed-shape genome pytree.
- :mod:`.space`: :class:`PathwaySpace`, sampling, validation, description;
  :mod:`.variation` its mutation and crossover, :mod:`.protocol` its JSON,
  fingerprint, fallback, measures, export and drawing hooks.
- :mod:`.network`: the super-network that runs any genome of the space.
- :mod:`.shape_classes`: narrower super-networks for the genomes that fit them.
- :mod:`.config`: the checks and gene tables of its ``config.space``.

The code a pathway is exported as is in :mod:`pathways_jax.codegen`.
"""

from pathways_jax import lazy

_EXPORTS = {
    "PathwaySpace": ".space",
    "CROSSOVER_KINDS": ".space",
    "DEFAULT_MUTATION_WEIGHTS": ".space",
    "INPUT_KINDS": ".space",
    "GeneTables": ".genome",
    "PathwayGenome": ".genome",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy.exports(__name__, _EXPORTS)
