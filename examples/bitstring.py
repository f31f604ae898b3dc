r"""A search space in one file: bit strings that should match a hidden target.

    python experiments/search.py --config=examples/bitstring.py --workdir=runs/bits
    python experiments/search.py --config=examples/bitstring.py:nsga2 --workdir=runs/bits2

A genome is ``length`` bits; its fitness is the fraction of bits equal to a
target string drawn from ``target_seed`` (the known optimum is 1.0, reached by
the target itself), and it reports the metric ``ones`` (set bits), which the
``nsga2`` variant minimises as a second objective. No network is trained:
the ``function`` evaluator vmaps :meth:`BitStringSpace.metrics` over a round.

This file is the complete example of ``docs/extending.md``: a space that
implements the :class:`pathways_jax.core.protocols.SearchSpace` protocol,
registers itself under the name ``bitstring``, and carries the config that
runs it (``space.module`` names this file, so a copy anywhere works).
"""

from __future__ import annotations

import dataclasses
import hashlib

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax import core
from pathways_jax.config import default_config


@flax.struct.dataclass
class Bits:
    """One genome: ``bits`` int32 ``[length]`` of 0 and 1 (``[n, length]`` for a population)."""

    bits: jnp.ndarray


@dataclasses.dataclass(frozen=True)
class BitStringSpace:
    """Bit strings of ``length``; fitness is the share of bits equal to the target.

    Attributes:
      length: bits per genome.
      target_seed: seed of the hidden target string.
      flip_probability: chance that mutation flips each bit, besides the one
        bit it always flips.
    """

    length: int = 32
    target_seed: int = 0
    flip_probability: float = 0.0

    crossover_kinds = ("uniform", "one_point")
    default_evaluator = "function"
    fallback_name = "the all-zero string"

    @property
    def target(self) -> np.ndarray:
        """int32 ``[length]``: the optimum."""
        return np.random.default_rng(self.target_seed).integers(0, 2, self.length, np.int32)

    def sample(self, key) -> Bits:
        return Bits(bits=jax.random.bernoulli(key, 0.5, (self.length,)).astype(jnp.int32))

    def fallback(self, key) -> Bits:
        del key
        return Bits(bits=jnp.zeros((self.length,), jnp.int32))

    def mutate(self, key, genome: Bits) -> Bits:
        """Flip one random bit (and each other bit with ``flip_probability``)."""
        key_one, key_each = jax.random.split(key)
        one = jax.nn.one_hot(jax.random.randint(key_one, (), 0, self.length), self.length) > 0
        each = jax.random.bernoulli(key_each, self.flip_probability, (self.length,))
        return Bits(bits=jnp.where(one | each, 1 - genome.bits, genome.bits))

    def crossover(self, key, first: Bits, second: Bits, kind: str = "uniform") -> Bits:
        if kind not in self.crossover_kinds:
            raise ValueError(f"crossover kind must be one of {self.crossover_kinds}, got {kind!r}")
        if kind == "uniform":
            take_second = jax.random.bernoulli(key, 0.5, (self.length,))
        else:
            cut = jax.random.randint(key, (), 1, self.length)
            take_second = jnp.arange(self.length) >= cut
        return Bits(bits=jnp.where(take_second, second.bits, first.bits))

    def is_valid(self, genome: Bits) -> jnp.ndarray:
        return jnp.all((genome.bits == 0) | (genome.bits == 1))

    def validate(self, genome: Bits) -> list[str]:
        bits = np.asarray(genome.bits)
        reasons = []
        if bits.shape != (self.length,):
            reasons.append(f"bits has shape {bits.shape}, expected ({self.length},)")
        elif not np.isin(bits, (0, 1)).all():
            reasons.append("bits holds values other than 0 and 1")
        return reasons

    def describe(self, genome: Bits) -> str:
        bits = np.asarray(genome.bits)
        matches = int(np.sum(bits == self.target))
        return f"{''.join(map(str, bits.tolist()))} ({matches}/{self.length} match)"

    def to_json(self, genome: Bits) -> dict:
        return {"bits": np.asarray(genome.bits).tolist()}

    def from_json(self, genes: dict) -> Bits:
        if "bits" not in genes:
            raise ValueError("genome JSON is missing the gene 'bits'")
        genome = Bits(bits=jnp.asarray(np.asarray(genes["bits"], np.int32)))
        reasons = self.validate(genome)
        if reasons:
            raise ValueError(f"genome JSON gene 'bits': {reasons[0]}")
        return genome

    def fingerprint(self, genome: Bits) -> str:
        return hashlib.sha256(np.asarray(genome.bits, np.int32).tobytes()).hexdigest()

    def metrics(self, key, genome: Bits) -> dict:
        """``fitness`` (share of bits equal to the target) and ``ones``."""
        del key  # The score is exact; a noisy benchmark would use the key.
        matches = jnp.mean((genome.bits == jnp.asarray(self.target)).astype(jnp.float32))
        return {"fitness": matches, "ones": jnp.sum(genome.bits)}

    def spec(self) -> dict:
        return dataclasses.asdict(self)


@core.register_space("bitstring")
def build_bitstring_space(settings, context) -> BitStringSpace:
    """The space of ``config.space`` (keys ``length``, ``target_seed``, ``flip_probability``)."""
    del context  # No data: the fitness is a function of the genome.
    length = settings.get("length", 32)
    if not isinstance(length, int) or length < 2:
        raise ValueError(f"config.space.length={length!r} is invalid: expected an integer >= 2")
    return BitStringSpace(
        length=length,
        target_seed=int(settings.get("target_seed", 0)),
        flip_probability=float(settings.get("flip_probability", 0.0)),
    )


def get_config(variant: str = "regularized"):
    """A search of 32-bit strings; ``variant`` is any strategy name, or
    ``nsga2`` (fitness against the number of set bits)."""
    config = default_config()
    config.space = {"name": "bitstring", "module": __file__, "length": 32, "target_seed": 0}
    config.strategy.name = variant
    config.strategy.population_size = 16
    config.strategy.sample_size = 4
    config.strategy.crossover_kind = "uniform"
    config.strategy.crossover_probability = 0.5
    config.strategy.objectives = ("fitness", "min:ones")
    config.budget.evaluations = 160
    config.parallel.round_size = 8
    config.final.top_k = 1
    config.checkpoint.every_rounds = 2
    return config
