r"""Evolve model pathways: the search command (also ``pathways-jax search``).

    python experiments/search.py --config=configs/mnist1d.py --workdir=runs/mnist1d

Every flag is described in ``pathways_jax/commands/search.py`` and by ``--helpfull``.
"""

from pathways_jax.commands.search import run

if __name__ == "__main__":
    run()
