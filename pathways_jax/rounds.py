"""What a round trains: constraints and the functional-equivalence cache.

Between the strategy's ``ask`` and the population program sit two filters:

- **Constraints** (``constraints.max_params``, ``constraints.max_flops``): a
  child over a limit is never trained. It is repaired by taking the same slot
  of further proposals of the strategy (``ask`` with derived keys), the first
  within the limits; if none is, the depth-0 linear model. The history
  records why.
- **Functional-equivalence cache**: a child whose decoded computation (active
  blocks and training genes, whatever its inactive genes) equals one already
  evaluated is not trained again; it inherits that candidate's metrics and
  the history names it. Its training slot runs the linear model instead, the
  cheapest program branch, so the compiled program keeps its shape.

Both are deterministic, and the cache is rebuilt from ``history.jsonl`` when
a search resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax import genome as genome_lib
from pathways_jax.codegen.plain_network import decode_blocks
from pathways_jax.evolution import population as population_lib
from pathways_jax.spaces import pathway_network
from pathways_jax.spaces.pathway import PathwaySpace

REPAIR_PROPOSALS = 8


@dataclasses.dataclass
class RoundPlan:
    """The children of a round and what is actually trained.

    Attributes:
      children: genomes ``[round_size]`` the strategy is told about.
      parents: int32 ``[round_size, 2]``.
      trained: genomes ``[round_size]`` given to the population program.
      notes: per child, extra fields for its history record
        (``cache_hit_of``, ``repaired``).
      cached: per child, the metrics it inherits (or None).
      fingerprints: per real child, its fingerprint (None without a cache).
    """

    children: genome_lib.PathwayGenome
    parents: np.ndarray
    trained: genome_lib.PathwayGenome
    notes: list[dict]
    cached: list[dict | None]
    fingerprints: list[str | None]

    @property
    def num_cache_hits(self) -> int:
        return sum(metrics is not None for metrics in self.cached)


def fingerprint(space: PathwaySpace, genome: genome_lib.PathwayGenome) -> str:
    """A hash of what a genome computes: its active blocks (as decoded) and its
    training genes; inactive genes and empty slots do not change it."""
    blocks = [
        {key: value for key, value in block.items() if key not in ("index", "slot")}
        for block in decode_blocks(space, genome)
    ]
    training = {
        name: np.asarray(getattr(genome, name)).tolist() for name in genome_lib.TRAINING_GENES
    }
    text = json.dumps({"blocks": blocks, "training": training}, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()


# History-record fields a cache hit inherits with the metrics (the fidelity
# its metrics were measured at).
INHERITED_NOTES = ("fidelity", "rung")


def _entry(record: dict) -> tuple[int, dict, dict]:
    notes = {name: record[name] for name in INHERITED_NOTES if name in record}
    return record["id"], record["metrics"], notes


class EquivalenceCache:
    """Fingerprint → (id, metrics, fidelity notes) of every candidate trained so far."""

    def __init__(self, space: PathwaySpace):
        self.space = space
        self.entries: dict[str, tuple[int, dict, dict]] = {}
        self.lookups = 0
        self.hits = 0

    def add_records(self, records) -> None:
        """Remember trained candidates (history records; cache hits are skipped)."""
        for record in records:
            if "cache_hit_of" in record:
                continue
            genome = genome_lib.genome_from_json(record["genome"], self.space.tables.max_depth)
            key = fingerprint(self.space, genome)
            self.entries.setdefault(key, _entry(record))

    def add_round(self, plan: RoundPlan, records) -> None:
        """Remember a round's trained candidates by the fingerprints ``plan_round``
        already computed (no second decoding)."""
        for key, record in zip(plan.fingerprints, records, strict=False):
            if key is not None and "cache_hit_of" not in record:
                self.entries.setdefault(key, _entry(record))

    def lookup(self, genome) -> tuple[str, tuple[int, dict, dict] | None]:
        """``(fingerprint, (id, metrics, notes) or None)`` of a genome."""
        self.lookups += 1
        key = fingerprint(self.space, genome)
        found = self.entries.get(key)
        self.hits += found is not None
        return key, found

    @property
    def hit_rate(self) -> float:
        return self.hits / max(self.lookups, 1)


@population_lib.strategy_jit(static_argnums=(0, 1, 5, 6))
def _repair(strategy, space, key, state, children, max_params, max_flops):
    """Children within the limits: ``(children, parents, repaired, sizes)``."""

    def sizes(genomes):
        params = jax.vmap(lambda g: pathway_network.count_parameters(space, g))(genomes)
        flops = jax.vmap(lambda g: pathway_network.count_flops(space, g))(genomes)
        within = jnp.ones(params.shape, bool)
        if max_params:
            within &= params <= max_params
        if max_flops:
            within &= flops <= max_flops
        return within, params, flops

    within, params, flops = sizes(children)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(1, REPAIR_PROPOSALS + 1))
    proposals, proposal_parents = jax.vmap(strategy.ask, in_axes=(0, None))(keys, state)
    proposal_within = jax.vmap(lambda g: sizes(g)[0])(proposals)  # [K, R]
    first = jnp.argmax(proposal_within, axis=0)
    found = jnp.any(proposal_within, axis=0)
    slots = jnp.arange(within.shape[0])
    pick = lambda leaf: leaf[first, slots]
    replacement = jax.tree_util.tree_map(pick, proposals)
    linear = space.linear_model(key)
    replacement = jax.tree_util.tree_map(
        lambda r, lin: jnp.where(found.reshape(-1, *[1] * (r.ndim - 1)), r, lin),
        replacement,
        linear,
    )
    repaired = jax.tree_util.tree_map(
        lambda c, r: jnp.where(within.reshape(-1, *[1] * (c.ndim - 1)), c, r),
        children,
        replacement,
    )
    return repaired, pick(proposal_parents), within, found, first, params, flops


@population_lib.strategy_jit
def _linear_where(space: PathwaySpace, key, children, mask):
    """``children`` with the slots where ``mask [R]`` is True replaced by the
    depth-0 linear model."""
    linear = space.linear_model(key)
    return jax.tree_util.tree_map(
        lambda c, lin: jnp.where(mask.reshape(-1, *[1] * (c.ndim - 1)), lin, c), children, linear
    )


def plan_round(
    strategy,
    space: PathwaySpace,
    key,
    state,
    num_real: int,
    *,
    max_params: float = 0,
    max_flops: float = 0,
    cache: EquivalenceCache | None = None,
) -> RoundPlan:
    """Ask the strategy for a round and decide what is trained (see module doc)."""
    children, parents = strategy.ask(key, state)
    parents = np.array(parents)
    round_size = parents.shape[0]
    notes = [{} for _ in range(round_size)]
    if max_params or max_flops:
        repaired, new_parents, within, found, first, params, flops = jax.device_get(
            _repair(strategy, space, key, state, children, max_params or 0, max_flops or 0)
        )
        for slot in np.flatnonzero(~within[:num_real]):
            over = []
            if max_params and params[slot] > max_params:
                over.append(f"{int(params[slot])} parameters > constraints.max_params={max_params}")
            if max_flops and flops[slot] > max_flops:
                over.append(f"{float(flops[slot]):.3g} FLOPs > constraints.max_flops={max_flops}")
            by = f"proposal {int(first[slot]) + 2}" if found[slot] else "the linear model"
            notes[slot]["repaired"] = (
                f"proposal over the limit ({'; '.join(over)}); replaced by {by}"
            )
            parents[slot] = new_parents[slot] if found[slot] else -1
        children = jax.tree_util.tree_map(jnp.asarray, repaired)
    cached: list[dict | None] = [None] * round_size
    fingerprints: list[str | None] = [None] * num_real
    trained = children
    if cache is not None:
        host = jax.device_get(children)
        hits = []
        for slot in range(num_real):
            fingerprints[slot], found = cache.lookup(genome_lib.index_population(host, slot))
            if found is not None:
                notes[slot]["cache_hit_of"] = found[0]
                notes[slot].update(found[2])
                cached[slot] = found[1]
                hits.append(slot)
        mask = np.zeros(round_size, bool)
        mask[hits] = True
        # Called every round (hits or not) so that it compiles in the first one.
        trained = _linear_where(space, key, children, mask)
    return RoundPlan(children, parents, trained, notes, cached, fingerprints)


def inherit_cached_metrics(metrics: dict, plan: RoundPlan) -> dict:
    """Host ``metrics`` of a round with cache hits' entries replaced by the
    metrics they inherit."""
    metrics = jax.tree_util.tree_map(np.array, metrics)
    evaluated = metrics["eval"][0]
    for slot, inherited in enumerate(plan.cached):
        if inherited is None:
            continue
        for name in evaluated:
            evaluated[name][slot] = inherited[name]
        metrics["train_loss"][slot] = inherited["train_loss"]
        metrics["diverged"][slot] = inherited["diverged"]
        metrics["num_params"][slot] = inherited["num_params"]
        metrics["flops"][slot] = inherited.get("flops", metrics["flops"][slot])
    return metrics
