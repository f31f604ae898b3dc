"""The evaluator whose members continue training across rounds: population-based training.

:class:`MemberWeights` keeps the weights and optimizer state of every member
(stacked ``[population, ...]``) between rounds. Each round, child ``i``
starts from the weights of its parent (the member whose id
``plan.parents[i, 0]`` names; fresh weights where it is ``-1``), trains for
``steps`` more steps with its own genes, and is evaluated; its weights
then replace slot ``i``. One compiled program (fixed shapes), like the
training of every other strategy. The learning-rate schedule spans the whole
search (``steps * rounds``).

The weights are part of the search's checkpoint (:meth:`carried`), so a
resumed search continues every member from where it stopped.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax import parallel
from pathways_jax.evaluators.fresh_weights import dataset_arrays
from pathways_jax.evaluators.metrics import training_records
from pathways_jax.runs import compilations
from pathways_jax.spaces.pathway import network as pathway_network
from pathways_jax.training import optimizers, trainer

# Fields of a history record's metrics that are not validation metrics.
TRAINING_FIELDS = ("train_loss", "diverged", "num_params", "flops", "reason")


@dataclasses.dataclass(frozen=True)
class MemberWeightsSettings:
    """Static settings of :class:`MemberWeights`.

    Attributes:
      steps: training steps of one interval (a round).
      num_rounds: rounds of the search (the schedule spans all of them).
      population_size: members, every one trained every round.
      eval_chunk: validation examples evaluated at once.
      backend: ``'shard_map'`` or ``'pmap'``.
      vmap_width: candidates vmapped together inside a device.
    """

    steps: int
    num_rounds: int
    population_size: int
    eval_chunk: int = 500
    backend: str = "shard_map"
    vmap_width: int = 1


class MemberWeights:
    """Trains the members of a round from the weights their parents ended with."""

    def __init__(self, space, data, settings: MemberWeightsSettings, mesh):
        self.space, self.data = space, data
        self.steps = int(settings.steps)
        self.mesh = mesh
        self.vmap_width = settings.vmap_width
        self.eval_chunk = settings.eval_chunk
        size = settings.population_size
        num_rounds = settings.num_rounds
        self.train_inputs, self.train_targets, self.validation, self.test = dataset_arrays(
            data, settings.eval_chunk
        )
        train_settings = trainer.TrainSettings(
            steps=self.steps, schedule_steps=self.steps * max(num_rounds, 1)
        )

        def per_member(genome, params, state, fresh, key, train_inputs, train_targets, eval_sets):
            init_key, loop_key = jax.random.split(key)
            new_params = pathway_network.init_params(space, genome, init_key)
            start = jax.tree_util.tree_map(
                lambda new, old: jnp.where(fresh, new, old),
                (new_params, optimizers.init_optimizer(new_params)),
                (params, state),
            )
            params, state, step_losses = trainer.continue_training(
                space, train_settings, genome, *start, loop_key, train_inputs, train_targets
            )
            metrics = trainer.training_metrics(
                space, train_settings, genome, params, step_losses, eval_sets
            )
            metrics["num_params"] = pathway_network.count_parameters(space, genome)
            metrics["flops"] = pathway_network.count_flops(space, genome)
            return metrics, params, state

        self.trace_counter = compilations.TraceCounter(per_member)
        self._run = parallel.population_map(
            self.trace_counter,
            mesh=mesh,
            backend=settings.backend,
            vmap_width=self.vmap_width,
            num_mapped=5,
        )
        template = space.linear_model(jax.random.key(0))
        shapes = jax.eval_shape(
            lambda: pathway_network.init_params(space, template, jax.random.key(0))
        )
        stacked = lambda tree: jax.tree_util.tree_map(
            lambda leaf: jnp.zeros((size, *leaf.shape), leaf.dtype), tree
        )
        # Host arrays between rounds: the program always sees the same kind of
        # input (so it is traced once), and checkpoints store them as they are.
        self.params = jax.device_get(stacked(shapes))
        self.state = jax.device_get(jax.vmap(optimizers.init_optimizer)(self.params))
        self.births = np.full(size, -1, np.int32)

    @property
    def compilations(self) -> int:
        return self.trace_counter.count

    def steps_of(self, record: dict) -> int:
        """Training steps a history record (one member's interval) cost."""
        del record
        return self.steps

    def carried(self) -> dict:
        """What a checkpoint must hold besides the strategy state."""
        return {"params": self.params, "state": self.state, "births": self.births}

    def restore(self, carried: dict) -> None:
        self.params, self.state = jax.device_get((carried["params"], carried["state"]))
        self.births = np.asarray(carried["births"], np.int32)

    def sources(self, parent_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(slots, fresh)``: where each child's weights come from."""
        slot_of = {int(birth): slot for slot, birth in enumerate(self.births)}
        fresh = parent_ids < 0
        missing = [int(p) for p in parent_ids[~fresh] if int(p) not in slot_of]
        if missing:
            raise RuntimeError(f"no weights are kept for the parent members {missing}")
        slots = np.asarray([slot_of.get(int(p), 0) for p in parent_ids])
        return slots, fresh

    def admission(self, notes: list[dict]) -> dict:
        """Every member joins (nothing is stopped early)."""
        del notes
        return {}

    def evaluate(self, plan, keys, num_real: int, ids) -> list[dict]:
        """Train every member of ``plan`` for one interval: history metrics ``[P]``."""
        train_inputs, train_targets = self.train_inputs, self.train_targets
        eval_sets = (self.validation,)
        slots, fresh = self.sources(np.asarray(plan.parents)[:, 0])
        take = lambda tree: jax.tree_util.tree_map(lambda leaf: leaf[slots], tree)
        mapped = (plan.trained, take(self.params), take(self.state), jnp.asarray(fresh), keys)
        count = len(slots)
        size = parallel.padded_size(count, self.mesh.devices.size, self.vmap_width)
        metrics, params, state = self._run(
            *parallel.pad_population(mapped, size), train_inputs, train_targets, eval_sets
        )
        first = lambda tree: jax.tree_util.tree_map(lambda leaf: leaf[:count], tree)
        self.params, self.state = jax.device_get((first(params), first(state)))
        self.births = np.asarray(ids, np.int32)[:count]
        metrics = jax.tree_util.tree_map(np.asarray, jax.device_get(first(metrics)))
        return training_records(metrics, num_real)

    def finalize(self, finalists: list[dict], latest: dict, key) -> tuple[dict, dict, dict]:
        """The best member after the last round, with the weights it trained:
        ``(final metrics, its history record, its parameters)``; evaluated once
        on the test split. The product of population-based training is the
        weights it trained: nothing is retrained."""
        del finalists, key
        records = [latest[int(member_id)] for member_id in self.births]
        fitness = np.asarray([record["metrics"]["fitness"] for record in records])
        fitness = np.where(np.isfinite(fitness), fitness, -np.inf)
        chosen = int(np.argmax(fitness))
        record = records[chosen]
        slot = int(np.flatnonzero(self.births == record["id"])[0])
        genome = self.space.from_json(record["genome"])
        params = jax.tree_util.tree_map(lambda leaf: leaf[slot], self.params)
        test = self.test
        evaluate = jax.jit(lambda p, e: trainer.evaluate_params(self.space, genome, p, e))
        test_metrics = jax.device_get(evaluate(params, test))
        final = {
            "steps": self.steps * int(record["round"] + 1),
            "retrained_ids": [],
            "retrained_validation_fitness": [],
            "diverged": bool(record["metrics"].get("diverged", False)),
            # The record's evaluation metrics, without what training added.
            "validation": {
                name: float(value)
                for name, value in record["metrics"].items()
                if name not in TRAINING_FIELDS
            },
            "test": {name: float(value) for name, value in test_metrics.items()},
        }
        return final, record, params
