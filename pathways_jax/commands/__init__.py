"""The command-line programs: ``pathways-jax search`` and ``pathways-jax fit``."""
