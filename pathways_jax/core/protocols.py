"""The three protocols the search loop speaks: search space, strategy, evaluator.

Everything above a space (strategies, the round stages, the loop, records,
checkpoints, reports) calls only what is written here, so a new space, strategy
or evaluator is one module that implements its protocol and registers itself
(:mod:`pathways_jax.core.registry`). ``docs/extending.md`` walks through a
complete example.

Genomes are pytrees of fixed-shape arrays; a population is the same pytree
with a leading axis ``[n]``. Methods marked *jit-able* are traced inside the
strategy's compiled ``ask``: they take and return arrays, never Python values
that depend on the genome.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax

Genome = Any  # A pytree of arrays of fixed shape.
Key = jax.Array


@runtime_checkable
class SearchSpace(Protocol):
    """What a strategy and the loop need of a search space.

    A space is a frozen, hashable dataclass (it is a static argument of the
    strategy's jitted functions). Required methods:

    - ``sample(key) -> genome`` (jit-able): a random valid genome.
    - ``mutate(key, genome) -> genome`` (jit-able): a valid child.
    - ``crossover(key, a, b, kind) -> genome`` (jit-able): a valid child of
      two parents; ``kind`` is one of ``crossover_kinds``.
    - ``is_valid(genome) -> bool[]`` (jit-able) and ``validate(genome) ->
      list[str]`` (host): the reasons a genome is not valid (empty if it is).
    - ``describe(genome) -> str``: one line a person reads in the history.
    - ``to_json(genome) -> dict`` / ``from_json(genes) -> genome``: exact,
      JSON-serialisable genes; ``from_json`` raises ``ValueError`` naming the
      bad field.
    - ``fingerprint(genome) -> str``: equal for genomes that compute the same
      thing (the equivalence cache's key); a hash of ``to_json`` is correct
      when a space has no inactive genes.

    Attributes:
      crossover_kinds: the ``kind`` values ``crossover`` accepts (at least one).
      default_evaluator: the evaluator registry name used when a config does
        not name one.

    Optional hooks (looked up with ``getattr``; a space without them still runs):

    - ``fallback(key) -> genome`` (jit-able): the cheapest safe genome, trained
      in a slot that is not really trained (cache hits) and chosen when a
      constraint rejects every proposal.
    - ``measures(genome) -> dict[str, scalar]`` (jit-able): sizes the
      constraints limit (e.g. ``num_params``, ``flops``).
    - ``perturb_training(key, genome) -> genome`` (jit-able): new training
      genes, same structure (population-based training's explore step).
    - ``export(out_dir, record, params, *, final, data, command) -> list[str]``:
      standalone code and weights of a finished search's best.
    - ``draw(genome, path)``: a diagram of the decoded structure.
    - ``spec() -> dict``: what a reader needs to rebuild the space (written
      into ``best/genome.json``).
    """

    crossover_kinds: tuple[str, ...]
    default_evaluator: str

    def sample(self, key: Key) -> Genome: ...

    def mutate(self, key: Key, genome: Genome) -> Genome: ...

    def crossover(self, key: Key, first: Genome, second: Genome, kind: str) -> Genome: ...

    def is_valid(self, genome: Genome) -> jax.Array: ...

    def validate(self, genome: Genome) -> list[str]: ...

    def describe(self, genome: Genome) -> str: ...

    def to_json(self, genome: Genome) -> dict: ...

    def from_json(self, genes: dict) -> Genome: ...

    def fingerprint(self, genome: Genome) -> str: ...


@runtime_checkable
class Strategy(Protocol):
    """A functional strategy (the evosax style): static settings in the object,
    every mutable value in the state pytree it passes in and returns.

    - ``init(key) -> state``.
    - ``ask(key, state) -> (children [round_size], parent_ids int32
      [round_size, 2])``, ``-1`` for no parent.
    - ``tell(state, children, values, num_real, admitted=None) -> state``:
      ``values`` are fitness ``[round_size]`` (higher is better) or, with
      several ``objective_names``, oriented objectives ``[round_size, k]``;
      only the first ``num_real`` children were evaluated; ``admitted``
      (bool ``[round_size]``) keeps some evaluated children out of the
      population.

    The state has at least ``fitness [P]`` and ``birth [P]`` (the id of each
    member, ``-1`` for an empty slot), which the loop logs.

    Attributes:
      space: the :class:`SearchSpace` it breeds in.
      objective_names: ``('fitness',)`` or several (see ``core.objectives``).
      inherits_weights: True when children continue their parents' training
        (population-based training): the loop then uses a per-member evaluator.
    """

    space: SearchSpace
    round_size: int
    objective_names: tuple[str, ...]

    def init(self, key: Key) -> Any: ...

    def ask(self, key: Key, state: Any) -> tuple[Genome, jax.Array]: ...

    def tell(self, state, children, values, num_real, admitted=None) -> Any: ...


@runtime_checkable
class Evaluator(Protocol):
    """Trains and scores the rounds of a search, and finishes it.

    - ``evaluate(plan, keys, num_real, ids) -> list[dict]``: the metrics of
      the first ``num_real`` children of ``plan.trained`` (a
      :class:`~pathways_jax.core.stages.RoundPlan`), one flat dict of numbers
      each, ``fitness`` among them (higher is better; ``-inf`` for a failed
      candidate, with a ``reason``). ``keys [round_size]`` are the
      candidates' training keys, ``ids`` their ids. It may add notes to
      ``plan.notes`` (e.g. a hurdle that stopped a child).
    - ``finalize(finalists, latest, key) -> (final, chosen, params)``: the
      finish of the search: retrain the finalists (history records, best
      first), choose on validation and test once; ``latest`` maps ids to the
      newest history records (for evaluators whose product is the last
      population). ``final`` is a JSON dict with ``validation`` and ``test``,
      ``chosen`` the chosen record, ``params`` its weights (or None).
    - ``carried() -> pytree`` / ``restore(pytree)``: what must outlive a
      round (nothing; per-member weights; shared weights), saved in every
      checkpoint.
    - ``steps_of(record) -> int``: the training steps a history record cost.
    - ``admission(notes) -> dict``: extra keyword arguments of
      ``strategy.tell`` (``{'admitted': ...}``) for the round's notes.

    Attributes:
      compilations: traces of its compiled programs so far (logged per round).
      data: what the space's ``export`` hook needs of the data (or None).
    """

    compilations: int

    def evaluate(self, plan, keys, num_real: int, ids) -> list[dict]: ...

    def finalize(self, finalists: list[dict], latest: dict, key: Key) -> tuple: ...

    def carried(self) -> Any: ...

    def restore(self, carried: Any) -> None: ...

    def steps_of(self, record: dict) -> int: ...

    def admission(self, notes: list[dict]) -> dict: ...
