"""pathways_jax: evolutionary pathway search in JAX."""

import pathlib

from setuptools import find_packages, setup

setup(
    name="pathways_jax",
    version="0.1.0",
    description=(
        "Evolve model pathways (architecture and training genes), train whole "
        "populations in one XLA program across devices, and export the winners."
    ),
    long_description=pathlib.Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["pathways_jax", "pathways_jax.*"]),
    install_requires=[
        "jax>=0.7.0",
        "flax>=0.10.0",
        "optax>=0.2.4",
        "chex>=0.1.87",
        "numpy>=1.26",
        "absl-py>=2.1",
        "ml_collections>=0.1.1",
        "mnist1d>=0.0.2",
        "scikit-learn>=1.3",
        "orbax-checkpoint>=0.11",
        "tensorboardX>=2.6",
        "matplotlib>=3.7",
    ],
    entry_points={"console_scripts": ["pathways-jax=pathways_jax.commands.main:main"]},
    extras_require={
        "test": [
            "pytest>=8.0",
            "pytest-xdist>=3.5",
            "hypothesis>=6.100",
            "ruff>=0.6",
            "tensorboard>=2.16",
            "pandas>=2.0",
        ],
        "tables": ["pandas>=2.0"],
        # benchmarks/automodel.py: a real table with text and missing cells, shipped offline.
        "benchmarks": ["pandas>=2.0", "palmerpenguins>=0.1.6"],
        "torch": ["torch>=2.3"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
