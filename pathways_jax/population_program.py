"""The compiled train-and-evaluate program of a search, and its PRNG keys.

:class:`PopulationProgram` wraps one population map (see
:mod:`pathways_jax.parallel`) of the per-candidate training and evaluation:
any number of genomes is padded to whole rounds and trained by the same
compiled program, so a search compiles it once.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax import genome, parallel
from pathways_jax.runs import compilations
from pathways_jax.spaces import pathway_network
from pathways_jax.spaces.pathway import PathwaySpace
from pathways_jax.training import trainer


@dataclasses.dataclass
class PopulationProgram:
    """The compiled train-and-evaluate program of a search.

    Calling it with genomes ``[n]`` (any ``n``) pads them to whole rounds of
    ``devices * vmap_width`` candidates, runs one compiled program, and returns
    host metrics for the first ``n``.
    """

    space: PathwaySpace
    steps: int
    mesh: jax.sharding.Mesh
    backend: str
    vmap_width: int

    def __post_init__(self):
        settings = trainer.TrainSettings(steps=self.steps)
        space = self.space

        def per_candidate(candidate, key, train_inputs, train_targets, eval_sets):
            metrics = trainer.train_and_evaluate(
                space, settings, candidate, key, train_inputs, train_targets, eval_sets
            )
            metrics["num_params"] = pathway_network.count_parameters(space, candidate)
            metrics["flops"] = pathway_network.count_flops(space, candidate)
            return metrics

        self.trace_counter = compilations.TraceCounter(per_candidate)
        self._run = parallel.population_map(
            self.trace_counter, mesh=self.mesh, backend=self.backend, vmap_width=self.vmap_width
        )

    @property
    def compilations(self) -> int:
        return self.trace_counter.count

    def _map(self, fn, mapped, *shared):
        count = genome.population_size(mapped[0])
        size = parallel.padded_size(count, self.mesh.devices.size, self.vmap_width)
        outputs = fn(*parallel.pad_population(mapped, size), *shared)
        outputs = jax.device_get(outputs)
        return jax.tree_util.tree_map(lambda leaf: np.asarray(leaf)[:count], outputs)

    def __call__(self, genomes, keys, train_inputs, train_targets, eval_sets):
        """Train and evaluate ``genomes [n]``: host metrics with leading axis ``n``."""
        return self._map(self._run, (genomes, keys), train_inputs, train_targets, eval_sets)

    def train(self, genomes, keys, train_inputs, train_targets):
        """Trained super-network parameters of ``genomes [n]`` (host pytree, leading ``n``)."""
        if not hasattr(self, "_train"):
            settings = trainer.TrainSettings(steps=self.steps)
            per_candidate = lambda g, k, x, y: trainer.train(self.space, settings, g, k, x, y)[0]
            self._train = parallel.population_map(
                per_candidate, mesh=self.mesh, backend=self.backend, vmap_width=self.vmap_width
            )
        return self._map(self._train, (genomes, keys), train_inputs, train_targets)

    def evaluate(self, genomes, params, eval_set):
        """Metrics of trained ``params`` of ``genomes [n]`` on one eval set."""
        if not hasattr(self, "_evaluate"):
            per_candidate = lambda g, p, e: trainer.evaluate_params(self.space, g, p, e)
            self._evaluate = parallel.population_map(
                per_candidate, mesh=self.mesh, backend=self.backend, vmap_width=self.vmap_width
            )
        metrics = self._map(self._evaluate, (genomes, params), eval_set)
        return {
            name: np.where(np.isfinite(v), v, -np.inf) if name == "fitness" else v
            for name, v in metrics.items()
        }


def search_keys(seed: int):
    """``(strategy_key, train_key, final_key)`` of a search with ``seed``: the
    strategy's randomness, the search's training and the final retraining."""
    return tuple(jax.random.split(jax.random.key(seed), 3))


def candidate_keys(base_key, ids: np.ndarray):
    """One training key per candidate id: the same id gets the same key however
    the candidates are split into rounds or over devices."""
    return jax.vmap(lambda i: jax.random.fold_in(base_key, i))(jnp.asarray(ids, jnp.uint32))
