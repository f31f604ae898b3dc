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

from pathways_jax import parallel
from pathways_jax.core.loop import candidate_keys, search_keys  # noqa: F401 - re-exported.
from pathways_jax.runs import compilations
from pathways_jax.spaces.pathway import genome
from pathways_jax.spaces.pathway import network as pathway_network
from pathways_jax.spaces.pathway import shape_classes as shape_classes_lib
from pathways_jax.spaces.pathway.space import PathwaySpace
from pathways_jax.training import trainer


@dataclasses.dataclass
class PopulationProgram:
    """The compiled train-and-evaluate programs of a search.

    Calling it with genomes ``[n]`` (any ``n``) pads them to a whole round of
    ``devices * vmap_width`` slots, and runs, for every shape class some genome
    needs, that class's program on the round: the class's genomes sit in its
    slots spread evenly over the devices, the other slots are skipped. Returns
    host metrics for the ``n`` genomes.

    Attributes:
      space: the pathway space.
      steps: training steps per candidate.
      mesh: the population mesh.
      backend: ``'shard_map'`` or ``'pmap'``.
      vmap_width: candidates vmapped together inside a device.
      shape_classes: which shape classes to compile, ``'none'``, ``'vector'``
        or ``'all'`` (see :func:`shape_classes.shape_classes`); each genome
        trains in the narrowest of them that holds it.
    """

    space: PathwaySpace
    steps: int
    mesh: jax.sharding.Mesh
    backend: str
    vmap_width: int
    shape_classes: str = "vector"

    def __post_init__(self):
        settings = trainer.TrainSettings(steps=self.steps)
        self.classes = shape_classes_lib.shape_classes(self.space, self.shape_classes)
        self.trace_counters, self._runs = [], []
        for shape_class in self.classes:
            counter = compilations.TraceCounter(self._per_candidate(settings, shape_class.space))
            self.trace_counters.append(counter)
            self._runs.append(
                parallel.population_map(
                    counter,
                    mesh=self.mesh,
                    backend=self.backend,
                    vmap_width=self.vmap_width,
                    num_mapped=3,
                )
            )

    def _per_candidate(self, settings, class_space: PathwaySpace):
        space = self.space

        def per_candidate(candidate, key, real, train_inputs, train_targets, eval_sets):
            """Metrics of one slot; a slot that holds no genome of this class
            (``real`` False) skips training and returns zeros."""

            def train_one():
                inputs = shape_classes_lib.class_inputs(space, class_space, train_inputs)
                class_eval_sets = tuple(
                    eval_set.replace(
                        inputs=shape_classes_lib.class_inputs(space, class_space, eval_set.inputs)
                    )
                    for eval_set in eval_sets
                )
                metrics = trainer.train_and_evaluate(
                    space,
                    settings,
                    candidate,
                    key,
                    inputs,
                    train_targets,
                    class_eval_sets,
                    program_space=class_space,
                )
                metrics["num_params"] = pathway_network.count_parameters(space, candidate)
                metrics["flops"] = pathway_network.count_flops(space, candidate)
                return metrics

            def skip():
                shapes = jax.eval_shape(train_one)
                return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

            return jax.lax.cond(real, train_one, skip)

        return per_candidate

    @property
    def compilations(self) -> int:
        """Traces of the train-and-evaluate programs (at most one per shape class)."""
        return sum(counter.count for counter in self.trace_counters)

    def class_counts(self, genomes) -> dict[str, int]:
        """How many of ``genomes [n]`` each shape class trains."""
        assignment = shape_classes_lib.assign(self.space, self.classes, jax.device_get(genomes))
        return {
            shape_class.name: int(np.sum(assignment == index))
            for index, shape_class in enumerate(self.classes)
        }

    def _map(self, fn, mapped, *shared):
        count = genome.population_size(mapped[0])
        size = parallel.padded_size(count, self.mesh.devices.size, self.vmap_width)
        outputs = fn(*parallel.pad_population(mapped, size), *shared)
        outputs = jax.device_get(outputs)
        return jax.tree_util.tree_map(lambda leaf: np.asarray(leaf)[:count], outputs)

    def __call__(self, genomes, keys, train_inputs, train_targets, eval_sets):
        """Train and evaluate ``genomes [n]``: host metrics with leading axis ``n``."""
        genomes = jax.device_get(genomes)
        count = genome.population_size(genomes)
        num_devices = self.mesh.devices.size
        size = parallel.padded_size(count, num_devices, self.vmap_width)
        assignment = shape_classes_lib.assign(self.space, self.classes, genomes)
        launched = []
        for index, run in enumerate(self._runs):
            members = np.flatnonzero(assignment == index)
            if members.size == 0:
                continue
            slots = spread_slots(members.size, size, num_devices)
            chosen = np.full(size, members[0])
            chosen[slots] = members
            real = np.zeros(size, bool)
            real[slots] = True
            mapped = (genome.index_population(genomes, chosen), keys[chosen], jnp.asarray(real))
            outputs = run(*mapped, train_inputs, train_targets, eval_sets)
            launched.append((members, slots, outputs))
        merged = None
        for members, slots, outputs in launched:
            outputs = jax.tree_util.tree_map(np.asarray, jax.device_get(outputs))
            if merged is None:
                merged = jax.tree_util.tree_map(
                    lambda leaf: np.zeros((count, *leaf.shape[1:]), leaf.dtype), outputs
                )

            def place(target, source, members=members, slots=slots):
                target[members] = source[slots]

            jax.tree_util.tree_map(place, merged, outputs)
        return merged

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


def spread_slots(count: int, size: int, num_devices: int) -> np.ndarray:
    """``[count]`` slots of a round of ``size`` (split into ``num_devices``
    contiguous shards) for ``count`` candidates, dealt to the devices in turn
    so that each trains ``count / num_devices`` of them, give or take one."""
    per_device = size // num_devices
    order = np.arange(count)
    return (order % num_devices) * per_device + order // num_devices
