"""Variation of pathway genomes: mutation (block gene, training gene, insert,
remove, swap) and crossover (block, uniform, one-point).

Mixed into :class:`~pathways_jax.spaces.pathway.space.PathwaySpace`: every method
is a pure function of a PRNG key that never returns an invalid genome (a
fixed number of proposals is drawn in parallel and the first valid one kept,
with a change that is valid by construction as the fallback).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pathways_jax.spaces.pathway.genome import (
    BLOCK_GENES,
    DENSE,
    IDENTITY,
    TRAINING_GENES,
    PathwayGenome,
)
from pathways_jax.spaces.pathway.protocol import CROSSOVER_KINDS

NUM_PROPOSALS = 16  # Proposals drawn per sample, mutation and crossover.
# In a space with feature selection, a mutation also flips one input group this often.
INPUT_FLIP_PROBABILITY = 0.3


class PathwayVariation:
    """``mutate`` and ``crossover`` of the pathway space (mixed into ``PathwaySpace``)."""

    def _change_gene(self, key, value, cardinality):
        """A different value of an integer gene (the same if it has one value)."""
        step = jax.random.randint(key, (), 1, max(cardinality, 2))
        return jnp.where(cardinality > 1, (value + step) % cardinality, value)

    def _step_learning_rate(self, key, genome: PathwayGenome) -> PathwayGenome:
        low, high = self.tables.log10_learning_rate_range
        step = 0.5 * jax.random.normal(key, ())
        new = jnp.clip(genome.log10_learning_rate + step, low, high)
        return genome.replace(log10_learning_rate=new.astype(jnp.float32))

    def _mutate_block_gene(self, key, genome: PathwayGenome) -> PathwayGenome:
        key_slot, key_gene, key_value = jax.random.split(key, 3)
        cards = self.tables.gene_cardinalities(self.task)
        active = genome.operation != IDENTITY
        # Prefer active blocks; with none active, any slot.
        logits = jnp.where(jnp.any(active), jnp.where(active, 0.0, -jnp.inf), 0.0)
        slot = jax.random.categorical(key_slot, logits)
        which = jax.random.randint(key_gene, (), 0, len(BLOCK_GENES))
        changes = {}
        for index, name in enumerate(BLOCK_GENES):
            values = getattr(genome, name)
            new_value = self._change_gene(key_value, values[slot], cards[name])
            changes[name] = jnp.where(which == index, values.at[slot].set(new_value), values)
        return genome.replace(**changes)

    def _mutate_training_gene(self, key, genome: PathwayGenome) -> PathwayGenome:
        key_gene, key_value = jax.random.split(key)
        cards = self.tables.gene_cardinalities(self.task)
        which = jax.random.randint(key_gene, (), 0, len(TRAINING_GENES))
        stepped = self._step_learning_rate(key_value, genome)
        changes = {}
        for index, name in enumerate(TRAINING_GENES):
            values = getattr(genome, name)
            if name == "log10_learning_rate":
                new_value = stepped.log10_learning_rate
            else:
                new_value = self._change_gene(key_value, values, cards[name])
            changes[name] = jnp.where(which == index, new_value, values)
        return genome.replace(**changes)

    def _shift_blocks(self, genome: PathwayGenome, source_slots, new_block=None, new_slot=-1):
        changes = {}
        for name in BLOCK_GENES:
            values = getattr(genome, name)
            moved = values[source_slots]
            if new_block is not None:
                moved = jnp.where(jnp.arange(values.shape[0]) == new_slot, new_block[name], moved)
            changes[name] = moved
        return genome.replace(**changes)

    def _insert_block(self, key, genome: PathwayGenome):
        depth = self.tables.max_depth
        key_slot, key_op, key_block = jax.random.split(key, 3)
        slot = jax.random.randint(key_slot, (), 0, depth)
        slots = jnp.arange(depth)
        source = jnp.where(slots <= slot, slots, slots - 1)
        spatial = ~jnp.any((genome.operation == DENSE) & (slots < slot))
        operation = self._random_operation(key_op, True)
        operation = jnp.where(spatial, operation, DENSE)
        block = self._random_block_genes(key_block, operation)
        fits = genome.operation[depth - 1] == IDENTITY
        return self._shift_blocks(genome, source, block, slot), fits

    def _remove_block(self, key, genome: PathwayGenome):
        depth = self.tables.max_depth
        active = genome.operation != IDENTITY
        logits = jnp.where(active, 0.0, -jnp.inf)
        slot = jax.random.categorical(key, jnp.where(jnp.any(active), logits, 0.0))
        slots = jnp.arange(depth)
        source = jnp.where(slots < slot, slots, jnp.minimum(slots + 1, depth - 1))
        empty = {name: jnp.int32(0) for name in BLOCK_GENES}
        removed = self._shift_blocks(genome, source, empty, jnp.where(slot < depth, depth - 1, -1))
        return removed, jnp.any(active)

    def _swap_blocks(self, key, genome: PathwayGenome):
        depth = self.tables.max_depth
        slot = jax.random.randint(key, (), 0, max(depth - 1, 1))
        slots = jnp.arange(depth)
        source = jnp.where(slots == slot, slot + 1, jnp.where(slots == slot + 1, slot, slots))
        source = jnp.clip(source, 0, depth - 1)
        swapped = self._shift_blocks(genome, source)
        differs = jnp.zeros((), bool)
        for name in BLOCK_GENES:
            values = getattr(genome, name)
            differs = differs | (values[slot] != values[jnp.minimum(slot + 1, depth - 1)])
        return swapped, differs & (depth > 1)

    def _propose_mutation(self, key, genome: PathwayGenome):
        key_kind, key_change = jax.random.split(key)
        logits = jnp.log(jnp.asarray(self.mutation_weights, jnp.float32))
        kind = jax.random.categorical(key_kind, logits)
        keys = jax.random.split(key_change, 5)
        candidates = [
            (self._mutate_block_gene(keys[0], genome), jnp.bool_(True)),
            (self._mutate_training_gene(keys[1], genome), jnp.bool_(True)),
            self._insert_block(keys[2], genome),
            self._remove_block(keys[3], genome),
            self._swap_blocks(keys[4], genome),
        ]
        proposal = candidates[0][0]
        ok = candidates[0][1]
        for index, (candidate, candidate_ok) in enumerate(candidates[1:], start=1):
            proposal = jax.tree_util.tree_map(
                lambda new, old, i=index: jnp.where(kind == i, new, old), candidate, proposal
            )
            ok = jnp.where(kind == index, candidate_ok, ok)
        return proposal, ok

    def mutate(self, key, genome: PathwayGenome) -> PathwayGenome:
        """One mutation of a valid genome: a block gene, a training gene, or an
        insert / remove / swap of blocks, chosen by ``mutation_weights``."""
        key_proposals, key_fallback = jax.random.split(key)
        proposals, ok = jax.vmap(self._propose_mutation, in_axes=(0, None))(
            jax.random.split(key_proposals, NUM_PROPOSALS), genome
        )
        child = self._first_valid(proposals, self._step_learning_rate(key_fallback, genome), ok)
        if self.input_groups:  # Feature selection: sometimes also flip one input column.
            child = self._flip_input_group(jax.random.fold_in(key, 1), child)
        return child

    def _flip_input_group(self, key, genome: PathwayGenome) -> PathwayGenome:
        """With probability :data:`INPUT_FLIP_PROBABILITY`, one input group
        switched on or off (never the last one off)."""
        key_coin, key_group = jax.random.split(key)
        group = jax.random.randint(key_group, (), 0, self.num_input_groups)
        flipped = genome.input_mask.at[group].set(1 - genome.input_mask[group])
        keep = jax.random.bernoulli(key_coin, INPUT_FLIP_PROBABILITY) & jnp.any(flipped == 1)
        return genome.replace(input_mask=jnp.where(keep, flipped, genome.input_mask))

    def crossover(
        self, key, first: PathwayGenome, second: PathwayGenome, kind: str = "block"
    ) -> PathwayGenome:
        """A child mixing two parents; the first parent if no mix is valid.

        Args:
          kind: ``'block'``: each block slot (all its genes) comes from either
            parent; ``'uniform'``: each gene of each slot independently;
            ``'one_point'``: slots before a random cut from the first parent,
            the rest from the second (block-aligned one-point). Training genes
            come from either parent, each independently, for every kind.
        """
        if kind not in CROSSOVER_KINDS:
            raise ValueError(f"crossover kind must be one of {CROSSOVER_KINDS}, got {kind!r}")
        depth = self.tables.max_depth

        def propose(proposal_key):
            key_blocks, key_train = jax.random.split(proposal_key)
            if kind == "block":
                from_second = jax.random.bernoulli(key_blocks, 0.5, (depth,))
                from_second = {name: from_second for name in BLOCK_GENES}
            elif kind == "uniform":
                draws = jax.random.bernoulli(key_blocks, 0.5, (len(BLOCK_GENES), depth))
                from_second = {name: draws[i] for i, name in enumerate(BLOCK_GENES)}
            else:
                cut = jax.random.randint(key_blocks, (), 1, depth + 1)
                after_cut = jnp.arange(depth) >= cut
                from_second = {name: after_cut for name in BLOCK_GENES}
            train_from_second = jax.random.bernoulli(key_train, 0.5, (len(TRAINING_GENES),))
            genes = {}
            for name in BLOCK_GENES:
                genes[name] = jnp.where(
                    from_second[name], getattr(second, name), getattr(first, name)
                )
            for index, name in enumerate(TRAINING_GENES):
                genes[name] = jnp.where(
                    train_from_second[index], getattr(second, name), getattr(first, name)
                )
            if self.input_groups:  # Each input group from either parent.
                mask_from_second = jax.random.bernoulli(
                    jax.random.fold_in(proposal_key, 1), 0.5, (self.num_input_groups,)
                )
                genes["input_mask"] = jnp.where(
                    mask_from_second, second.input_mask, first.input_mask
                )
            return PathwayGenome(**genes)

        proposals = jax.vmap(propose)(jax.random.split(key, NUM_PROPOSALS))
        return self._first_valid(proposals, first)

    # ----------------------------------------------------------- description
