"""What a round trains: composable stages between ``ask`` and ``tell``.

A round starts as the strategy's children (:func:`ask_round`); each stage then
may change what is trained before the evaluator runs (``before``) and the
metrics after it (``after``), like optax transformations chained in order:

- :class:`ConstraintRepair` (``constraints.max_params``/``max_flops``): a child
  over a limit is never trained. It is replaced by the same slot of further
  proposals of the strategy (``ask`` with derived keys), the first within the
  limits, else by the space's ``fallback``; the history records why.
- :class:`EquivalenceCache`: a child whose fingerprint (``space.fingerprint``)
  equals an evaluated one's is not trained again; it inherits that
  candidate's metrics and the history names it. Its slot trains the space's
  ``fallback`` instead, so the compiled program keeps its shape.
- :class:`~pathways_jax.core.latency_stage.MeasuredLatency`: the measured
  inference latency of each child, as a metric.

Every stage is deterministic, and what it remembers is rebuilt from the kept
history (``resume``) or carried in the checkpoint (``progress``) when a search
resumes. A stage implements any of ``before(key, strategy, state, plan,
num_real)``, ``after(plan, records)``, ``resume(records, progress)``,
``record(plan, history_lines)``, ``progress()``, ``round_metrics()`` and
``finish(workdir, summary)``.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.core import genomes
from pathways_jax.core.records import is_cache_hit
from pathways_jax.strategies import population as population_lib

REPAIR_PROPOSALS = 8


@dataclasses.dataclass
class RoundPlan:
    """The children of a round and what is actually trained.

    Attributes:
      children: genomes ``[round_size]`` the strategy is told about.
      parents: int32 ``[round_size, 2]``.
      trained: genomes ``[round_size]`` given to the evaluator.
      notes: per child, extra fields for its history record
        (``cache_hit_of``, ``repaired``, ``fidelity``).
      cached: per child, the metrics it inherits (or None).
      fingerprints: per real child, its fingerprint (None without a cache).
    """

    children: object
    parents: np.ndarray
    trained: object
    notes: list[dict]
    cached: list[dict | None]
    fingerprints: list[str | None]

    @property
    def num_cache_hits(self) -> int:
        return sum(metrics is not None for metrics in self.cached)


def ask_round(strategy, key, state, num_real: int) -> RoundPlan:
    """The strategy's children of a round, all of them to be trained."""
    children, parents = strategy.ask(key, state)
    parents = np.array(parents)
    round_size = parents.shape[0]
    return RoundPlan(
        children=children,
        parents=parents,
        trained=children,
        notes=[{} for _ in range(round_size)],
        cached=[None] * round_size,
        fingerprints=[None] * num_real,
    )


def plan_round(strategy, key, state, num_real: int, round_stages=()) -> RoundPlan:
    """:func:`ask_round` followed by the ``before`` of each stage, as the loop does."""
    plan = ask_round(strategy, key, state, num_real)
    for stage in round_stages:
        if hasattr(stage, "before"):
            plan = stage.before(key, strategy, state, plan, num_real)
    return plan


# How the history names a measure over its limit: (config key, value as text).
_LIMIT_LABELS = {
    "num_params": ("constraints.max_params", lambda v: f"{int(v)} parameters"),
    "flops": ("constraints.max_flops", lambda v: f"{float(v):.3g} FLOPs"),
}


def _fallback_or_first(space, key, children):
    if hasattr(space, "fallback"):
        return space.fallback(key)
    return genomes.index_population(children, 0)


@population_lib.strategy_jit(static_argnums=(0, 1, 5))
def _repair(strategy, space, key, state, children, limits):
    """Children within the limits: ``(children, parents, within, found, first, measured)``."""

    def within_limits(members):
        measured = jax.vmap(space.measures)(members)
        within = jnp.ones(jax.tree_util.tree_leaves(measured)[0].shape, bool)
        for name, limit in limits:
            within &= measured[name] <= limit
        return within, measured

    within, measured = within_limits(children)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(1, REPAIR_PROPOSALS + 1))
    proposals, proposal_parents = jax.vmap(strategy.ask, in_axes=(0, None))(keys, state)
    proposal_within = jax.vmap(lambda g: within_limits(g)[0])(proposals)  # [K, R]
    first = jnp.argmax(proposal_within, axis=0)
    found = jnp.any(proposal_within, axis=0)
    slots = jnp.arange(within.shape[0])
    pick = lambda leaf: leaf[first, slots]
    replacement = jax.tree_util.tree_map(pick, proposals)
    replacement = genomes.where_members(
        found, replacement, _fallback_or_first(space, key, children)
    )
    repaired = genomes.where_members(within, children, replacement)
    return repaired, pick(proposal_parents), within, found, first, measured


class ConstraintRepair:
    """Children over a limit are replaced before training (see the module doc).

    Args:
      limits: ``{measure: limit}`` over the space's ``measures`` (e.g.
        ``{'num_params': 1e5}``); a limit of 0 is no limit.
    """

    def __init__(self, space, limits: dict[str, float]):
        self.limits = tuple((name, limit) for name, limit in limits.items() if limit)
        if self.limits and not hasattr(space, "measures"):
            raise ValueError(f"the space {type(space).__name__} has no measures to constrain")
        self.space = space

    def before(self, key, strategy, state, plan: RoundPlan, num_real: int) -> RoundPlan:
        if not self.limits:
            return plan
        repaired, new_parents, within, found, first, measured = jax.device_get(
            _repair(strategy, self.space, key, state, plan.children, self.limits)
        )
        for slot in np.flatnonzero(~within[:num_real]):
            over = []
            for name, limit in self.limits:
                if measured[name][slot] > limit:
                    key_name, text = _LIMIT_LABELS.get(
                        name, (f"constraints.max_{name}", lambda v, n=name: f"{v:.3g} {n}")
                    )
                    over.append(f"{text(measured[name][slot])} > {key_name}={limit}")
            fallback = getattr(self.space, "fallback_name", "the fallback genome")
            by = f"proposal {int(first[slot]) + 2}" if found[slot] else fallback
            plan.notes[slot]["repaired"] = (
                f"proposal over the limit ({'; '.join(over)}); replaced by {by}"
            )
            plan.parents[slot] = new_parents[slot] if found[slot] else -1
        children = jax.tree_util.tree_map(jnp.asarray, repaired)
        return dataclasses.replace(plan, children=children, trained=children)


# History-record fields a cache hit inherits with the metrics (the fidelity
# its metrics were measured at).
INHERITED_NOTES = ("fidelity", "rung")


def _entry(record: dict) -> tuple[int, dict, dict]:
    notes = {name: record[name] for name in INHERITED_NOTES if name in record}
    return record["id"], record["metrics"], notes


@population_lib.strategy_jit
def _fallback_where(space, key, children, mask):
    """``children`` with the slots where ``mask [R]`` is True replaced by the
    space's fallback genome."""
    return genomes.where_members(mask, _fallback_or_first(space, key, children), children)


class EquivalenceCache:
    """Fingerprint → (id, metrics, fidelity notes) of every candidate trained so far."""

    def __init__(self, space):
        self.space = space
        self.entries: dict[str, tuple[int, dict, dict]] = {}
        self.lookups = 0
        self.hits = 0

    def add_records(self, records) -> None:
        """Remember trained candidates (history records; cache hits are skipped)."""
        for record in records:
            if is_cache_hit(record):
                continue
            key = self.space.fingerprint(self.space.from_json(record["genome"]))
            self.entries.setdefault(key, _entry(record))

    def lookup(self, genome) -> tuple[str, tuple[int, dict, dict] | None]:
        """``(fingerprint, (id, metrics, notes) or None)`` of a genome."""
        self.lookups += 1
        key = self.space.fingerprint(genome)
        found = self.entries.get(key)
        self.hits += found is not None
        return key, found

    @property
    def hit_rate(self) -> float:
        return self.hits / max(self.lookups, 1)

    def before(self, key, strategy, state, plan: RoundPlan, num_real: int) -> RoundPlan:
        del strategy, state
        host = jax.device_get(plan.children)
        hits = []
        for slot in range(num_real):
            plan.fingerprints[slot], found = self.lookup(genomes.index_population(host, slot))
            if found is not None:
                plan.notes[slot]["cache_hit_of"] = found[0]
                plan.notes[slot].update(found[2])
                plan.cached[slot] = found[1]
                hits.append(slot)
        mask = np.zeros(len(plan.notes), bool)
        mask[hits] = True
        # Called every round (hits or not) so that it compiles in the first one.
        trained = _fallback_where(self.space, key, plan.children, mask)
        return dataclasses.replace(plan, trained=trained)

    def after(self, plan: RoundPlan, records: list[dict]) -> list[dict]:
        """Cache hits get the metrics they inherit."""
        return [
            dict(inherited) if inherited is not None else record
            for record, inherited in zip(records, plan.cached, strict=False)
        ]

    def record(self, plan: RoundPlan, lines: list[dict]) -> None:
        """Remember a round's trained candidates by the fingerprints ``before``
        computed (no second decoding)."""
        for key, line in zip(plan.fingerprints, lines, strict=False):
            # Only evaluated candidates: a history without cache hits (and a
            # resumed search) rebuilds the same entries.
            if key is not None and not is_cache_hit(line):
                self.entries.setdefault(key, _entry(line))

    def resume(self, kept: list[dict], progress: dict) -> None:
        self.add_records(kept)
        self.lookups = progress.get("cache_lookups", len(kept))
        self.hits = progress.get("cache_hits", sum("cache_hit_of" in record for record in kept))

    def progress(self) -> dict:
        """The counters (a history without cache hits cannot recount them)."""
        return {"cache_lookups": self.lookups, "cache_hits": self.hits}

    def round_metrics(self) -> dict:
        return {"cache_hit_rate": round(self.hit_rate, 4)}
