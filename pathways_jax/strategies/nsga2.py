"""NSGA-II (Deb et al. 2002): multi-objective search by non-dominated sorting
and crowding distance.

Every objective is oriented so that higher is better (the search negates the
log of parameter counts and FLOPs). Parents are chosen by binary tournaments
on (front rank, crowding distance); parents and children compete and the
population keeps whole fronts, then the least crowded members of the front
that does not fit. The sort and the crowding are pure JAX, so ``ask`` and
``tell`` stay jit-able.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.core.protocols import Genome, SearchSpace
from pathways_jax.strategies import population as population_lib
from pathways_jax.strategies.population import PopulationState
from pathways_jax.strategies.regularized import check_settings

# Objectives a search can name; each maps metrics to a higher-is-better value.
# Besides these, ``'max:NAME'`` maximises any metric NAME the evaluator
# reports (reference 0, like fitness) and ``'min:NAME'`` minimises a cost
# NAME >= 1 on a log scale (reference 1e9, like params).
OBJECTIVES = ("fitness", "params", "flops", "latency")
# Reference point of the hypervolume, per objective (oriented values):
# fitness 0 (chance-free accuracy / R² of 0), 1e9 parameters, 1e12 FLOPs,
# 10 s of measured inference latency.
HYPERVOLUME_REFERENCE = {"fitness": 0.0, "params": -9.0, "flops": -12.0, "latency": -1.0}
_MEASURED = {"params": "num_params", "flops": "flops", "latency": "latency_seconds"}
_FLOOR = -1e9  # Non-finite objectives (diverged candidates) count as this.


def is_objective(name: str) -> bool:
    """Whether ``name`` is an objective a strategy can be given."""
    if name in OBJECTIVES:
        return True
    direction, _, metric = name.partition(":")
    return direction in ("max", "min") and bool(metric)


def measured_metric(name: str) -> str:
    """The history metric an objective is computed from."""
    if name in OBJECTIVES:
        return _MEASURED.get(name, name)
    return name.partition(":")[2]


def hypervolume_reference(names) -> np.ndarray:
    """The oriented reference point ``[len(names)]`` of the hypervolume."""
    reference = []
    for name in names:
        if name in HYPERVOLUME_REFERENCE:
            reference.append(HYPERVOLUME_REFERENCE[name])
        else:
            reference.append(0.0 if name.startswith("max:") else -9.0)
    return np.asarray(reference)


def oriented_objectives(names, metrics: dict) -> np.ndarray:
    """``[n, len(names)]`` higher-is-better objectives from host metrics.

    Args:
      names: objectives (:func:`is_objective`).
      metrics: ``fitness [n]`` and, as the names need them, ``num_params [n]``,
        ``flops [n]``, ``latency_seconds [n]`` or the metrics ``min:``/``max:``
        name. Costs are minimised: their oriented value is ``-log10(cost)``.
    """
    columns = []
    for name in names:
        if name == "fitness":
            columns.append(np.asarray(metrics["fitness"], np.float32))
        elif name == "params":
            columns.append(-np.log10(np.maximum(np.asarray(metrics["num_params"], np.float64), 1)))
        elif name == "flops":
            columns.append(-np.log10(np.maximum(np.asarray(metrics["flops"], np.float64), 1)))
        elif name == "latency":
            seconds = np.asarray(metrics["latency_seconds"], np.float64)
            columns.append(-np.log10(np.maximum(seconds, 1e-9)))
        elif name.startswith("max:"):
            columns.append(np.asarray(metrics[measured_metric(name)], np.float64))
        elif name.startswith("min:"):
            cost = np.asarray(metrics[measured_metric(name)], np.float64)
            columns.append(-np.log10(np.maximum(cost, 1)))
        else:
            raise ValueError(f"unknown objective {name!r}; expected one of {OBJECTIVES}")
    return np.stack(columns, axis=1).astype(np.float32)


def non_dominated_ranks(objectives: jnp.ndarray, valid: jnp.ndarray) -> jnp.ndarray:
    """Front index of every point (0 = not dominated by any valid point).

    Args:
      objectives: ``[n, k]`` float, higher is better.
      valid: ``[n]`` bool; invalid points get rank ``n``.

    Returns:
      ``[n]`` int32.
    """
    n = objectives.shape[0]
    x = jnp.where(jnp.isfinite(objectives), objectives, _FLOOR)
    at_least = jnp.all(x[:, None, :] >= x[None, :, :], axis=-1)
    better = jnp.any(x[:, None, :] > x[None, :, :], axis=-1)
    dominates = at_least & better & valid[:, None] & valid[None, :]

    def peel(carry):
        ranks, remaining, front = carry
        dominated = jnp.any(dominates & remaining[:, None], axis=0)
        current = remaining & ~dominated
        return jnp.where(current, front, ranks), remaining & ~current, front + 1

    ranks, _, _ = jax.lax.while_loop(
        lambda carry: jnp.any(carry[1]),
        peel,
        (jnp.full((n,), n, jnp.int32), valid, jnp.int32(0)),
    )
    return ranks


def crowding_distances(objectives: jnp.ndarray, ranks: jnp.ndarray) -> jnp.ndarray:
    """Crowding distance of every point within its front (``inf`` at a front's
    ends), each objective's gaps normalised by the front's range.

    Args:
      objectives: ``[n, k]``.
      ranks: ``[n]`` from :func:`non_dominated_ranks`.

    Returns:
      ``[n]`` float32.
    """
    n, k = objectives.shape
    x = jnp.where(jnp.isfinite(objectives), objectives, _FLOOR).astype(jnp.float32)
    distance = jnp.zeros((n,), jnp.float32)
    for m in range(k):
        order = jnp.lexsort((x[:, m], ranks))
        values, front = x[order, m], ranks[order]
        low = jax.ops.segment_min(values, front, num_segments=n + 1)[front]
        high = jax.ops.segment_max(values, front, num_segments=n + 1)[front]
        previous = jnp.concatenate([values[:1], values[:-1]])
        following = jnp.concatenate([values[1:], values[-1:]])
        same_before = jnp.concatenate([jnp.array([False]), front[1:] == front[:-1]])
        same_after = jnp.concatenate([front[:-1] == front[1:], jnp.array([False])])
        gap = (following - previous) / jnp.maximum(high - low, 1e-12)
        gap = jnp.where(same_before & same_after, gap, jnp.inf)
        distance = distance.at[order].add(gap)
    return distance


def nsga2_order(objectives: jnp.ndarray, valid: jnp.ndarray) -> jnp.ndarray:
    """Indices best first: by front rank, then by larger crowding distance."""
    ranks = non_dominated_ranks(objectives, valid)
    crowding = crowding_distances(objectives, ranks)
    return jnp.lexsort((-crowding, ranks))


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Exact hypervolume dominated by ``points [n, k]`` (higher is better) above
    ``reference [k]``, by slicing along the first objective (fine for the small
    fronts of a search)."""
    points = np.asarray(points, np.float64)
    points = points[np.all(np.isfinite(points), axis=1) & np.all(points > reference, axis=1)]
    if len(points) == 0:
        return 0.0
    if points.shape[1] == 1:
        return float(points[:, 0].max() - reference[0])
    order = np.argsort(-points[:, 0])
    points = points[order]
    volume = 0.0
    for index in range(len(points)):
        upper = points[index, 0]
        lower = points[index + 1, 0] if index + 1 < len(points) else reference[0]
        if upper > lower:
            volume += (upper - lower) * hypervolume(points[: index + 1, 1:], reference[1:])
    return volume


@dataclasses.dataclass(frozen=True)
class NSGA2:
    """Static settings of NSGA-II.

    Attributes:
      space: the search space.
      population_size: members kept.
      round_size: children per round.
      objective_names: objectives (:func:`is_objective`), the first being ``'fitness'``.
      crossover_probability, crossover_kind: as for the other strategies.
    """

    space: SearchSpace
    population_size: int
    round_size: int
    objective_names: tuple[str, ...] = ("fitness", "params")
    crossover_probability: float = 0.0
    crossover_kind: str = "block"

    def __post_init__(self):
        check_settings(
            self.population_size,
            self.round_size,
            self.crossover_probability,
            self.crossover_kind,
            self.space.crossover_kinds,
        )
        names = tuple(self.objective_names)
        if len(names) < 2 or names[0] != "fitness" or len(set(names)) != len(names):
            raise ValueError(
                f"objectives must start with 'fitness' and name at least two distinct of "
                f"{OBJECTIVES}, got {names}"
            )
        unknown = [name for name in names if not is_objective(name)]
        if unknown:
            raise ValueError(f"unknown objective {unknown[0]!r}; expected one of {OBJECTIVES}")

    @population_lib.strategy_jit
    def init(self, key) -> PopulationState:
        return population_lib.init_population(
            self.space, self.population_size, key, len(self.objective_names)
        )

    def _child(self, key, state: PopulationState, ranks, crowding):
        keys = jax.random.split(key, 3)

        def binary_tournament(tournament_key):
            a, b = jax.random.randint(tournament_key, (2,), 0, self.population_size)
            a_wins = (ranks[a] < ranks[b]) | ((ranks[a] == ranks[b]) & (crowding[a] >= crowding[b]))
            return jnp.where(a_wins, a, b)

        return population_lib.breed(
            self.space,
            keys[2],
            state,
            binary_tournament(keys[0]),
            binary_tournament(keys[1]),
            self.crossover_probability,
            self.crossover_kind,
        )

    @population_lib.strategy_jit
    def ask(self, key, state: PopulationState):
        """``(children [round_size], parent_ids [round_size, 2])``."""
        valid = state.birth >= 0
        ranks = non_dominated_ranks(state.objectives, valid)
        crowding = crowding_distances(state.objectives, ranks)
        return population_lib.bred_or_random(
            self.space,
            key,
            state,
            self.round_size,
            lambda k: self._child(k, state, ranks, crowding),
        )

    @population_lib.strategy_jit
    def tell(self, state, children: Genome, objectives, num_real, admitted=None) -> PopulationState:
        """Keep whole fronts of parents and children, then the least crowded.

        Args:
          objectives: ``[round_size, len(objective_names)]`` oriented values.
          admitted: optional bool ``[round_size]``: only these children may join.
        """
        genomes, births, merged = population_lib.merged_candidates(
            state, children, objectives, num_real, admitted
        )
        order = nsga2_order(merged, births >= 0)
        keep = order[: self.population_size]
        return population_lib.survivors(state, genomes, births, merged, keep, num_real)


def pareto_front(objectives: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of host ``objectives [n, k]``."""
    ranks = np.asarray(
        non_dominated_ranks(jnp.asarray(objectives), jnp.ones(len(objectives), bool))
    )
    return np.flatnonzero(ranks == 0)
