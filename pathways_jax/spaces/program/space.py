"""The program space: AutoML-Zero's ``Setup``/``Predict``/``Learn`` programs.

A genome is a :class:`~pathways_jax.spaces.program.genome.Program`; the space
holds the memory sizes, the ops each component function may use, the size
limits and the mutation types (:mod:`~pathways_jax.spaces.program.variation`).
Candidates are scored by the ``program`` evaluator
(:mod:`pathways_jax.evaluators.programs`), which runs them on tasks with the
batched interpreter (:mod:`~pathways_jax.spaces.program.interpreter`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.program import genome as genome_lib
from pathways_jax.spaces.program import liveness, source, variation
from pathways_jax.spaces.program import ops as ops_lib
from pathways_jax.spaces.program.genome import FUNCTIONS, Program
from pathways_jax.spaces.program.interpreter import Machine

INITIALS = ("random", "no_op", "program")
_ANALYSES: dict[bytes, dict] = {}
_ANALYSES_SIZE = 16384


@functools.lru_cache(maxsize=64)
def _initial_genome(space) -> Program:
    genome = space.from_json(json.loads(space.initial_program))
    return jax.tree_util.tree_map(np.asarray, genome)


@dataclasses.dataclass(frozen=True)
class ProgramSpace:
    """Static settings of a program space (hashable: a jit static argument).

    Attributes:
      feature_size: ``F``, the size of vectors (and of the task's features).
      num_scalars, num_vectors, num_matrices: memory sizes (at least 2
        scalars and 1 vector: ``s0``, ``s1``, ``v0`` are reserved).
      allowed_ops: per component function (setup, predict, learn), the op
        indices new instructions are drawn from (empty: never mutated).
      min_sizes, max_sizes: per function, the limits insertion and removal
        keep to (``max_sizes`` is also the number of instruction slots).
      init_sizes: per function, the size of the starting programs.
      initial: ``'random'`` (random instructions), ``'no_op'`` or
        ``'program'`` (``initial_program``, a JSON genome).
      mutation_types: names from ``variation.MUTATION_TYPES``.
      mutation_probability: chance a child is mutated (else a copy).
      classification: the tasks are binary classification.
    """

    feature_size: int = 4
    num_scalars: int = 4
    num_vectors: int = 3
    num_matrices: int = 1
    allowed_ops: tuple[tuple[int, ...], ...] = ((), (), ())
    min_sizes: tuple[int, int, int] = (1, 1, 1)
    max_sizes: tuple[int, int, int] = (10, 2, 8)
    init_sizes: tuple[int, int, int] = (10, 2, 8)
    initial: str = "random"
    initial_program: str = ""
    mutation_types: tuple[str, ...] = ("alter_param", "randomize_instruction", "randomize_function")
    mutation_probability: float = 0.9
    classification: bool = False

    crossover_kinds = ("function",)
    default_evaluator = "program"
    fallback_name = "the empty program"
    divergence_hint = "failed (each reason is in history.jsonl)"

    def __post_init__(self):
        problems = []
        if self.num_scalars < 2 or self.num_vectors < 1 or self.num_matrices < 1:
            problems.append("num_scalars >= 2, num_vectors >= 1 and num_matrices >= 1")
        if self.feature_size < 1:
            problems.append("feature_size >= 1")
        if self.initial not in INITIALS:
            problems.append(f"initial in {INITIALS}")
        unknown = set(self.mutation_types) - set(variation.MUTATION_TYPES)
        if unknown or not self.mutation_types:
            problems.append(f"mutation_types from {variation.MUTATION_TYPES}")
        for index, name in enumerate(FUNCTIONS):
            low, high, init = self.min_sizes[index], self.max_sizes[index], self.init_sizes[index]
            if not 0 <= low <= high or not low <= init <= high:
                problems.append(f"min_sizes <= init_sizes <= max_sizes for {name}")
        if problems:
            raise ValueError(f"ProgramSpace needs {'; '.join(problems)}")
        if self.initial == "program":
            self.initial_genome()  # Raises on a bad program.

    # Static views -------------------------------------------------------

    def initial_genome(self) -> Program:
        """The configured starting program (``initial='program'``), parsed and
        checked once, outside any trace."""
        return _initial_genome(self)

    @functools.cached_property
    def machine(self) -> Machine:
        """What the interpreter needs: the ops each function may hold."""
        executable = []
        for index, name in enumerate(FUNCTIONS):
            ops = set(self.allowed_ops[index])
            if self.initial == "program":
                start = json.loads(self.initial_program).get(name, [])
                ops |= {ops_lib.op_index(row[0]) for row in start}
            ops.discard(ops_lib.NO_OP)
            executable.append(tuple(sorted(ops)))
        return Machine(
            feature_size=self.feature_size,
            num_scalars=self.num_scalars,
            num_vectors=self.num_vectors,
            num_matrices=self.num_matrices,
            executable_ops=tuple(executable),
            classification=self.classification,
        )

    @property
    def counts(self) -> dict[str, int]:
        return {"s": self.num_scalars, "v": self.num_vectors, "m": self.num_matrices}

    # SearchSpace protocol --------------------------------------------------

    def sample(self, key) -> Program:
        return variation.sample(self, key)

    def fallback(self, key) -> Program:
        del key
        return Program(*(genome_lib.empty_function(n) for n in self.max_sizes))

    def mutate(self, key, genome: Program) -> Program:
        return variation.mutate(self, key, genome)

    def crossover(self, key, first: Program, second: Program, kind: str = "function") -> Program:
        if kind not in self.crossover_kinds:
            raise ValueError(f"crossover kind must be one of {self.crossover_kinds}, got {kind!r}")
        return variation.crossover(self, key, first, second)

    def is_valid(self, genome: Program) -> jnp.ndarray:
        valid = jnp.asarray(True)
        for index, name in enumerate(FUNCTIONS):
            function = genome.function(name)
            valid &= (function.length >= 0) & (function.length <= self.max_sizes[index])
        return valid

    def validate(self, genome: Program) -> list[str]:
        reasons = []
        executable = self.machine.executable_ops
        for index, name in enumerate(FUNCTIONS):
            function = genome.function(name)
            if function.op.shape != (self.max_sizes[index],):
                reasons.append(
                    f"{name} has {function.op.shape} slots, expected ({self.max_sizes[index]},)"
                )
                continue
            length = int(function.length)
            if not 0 <= length <= self.max_sizes[index]:
                reasons.append(f"{name} has {length} instructions, at most {self.max_sizes[index]}")
                continue
            for slot, row in enumerate(genome_lib.function_to_rows(function)):
                reasons.extend(self._row_problems(name, slot, row, executable[index]))
        return reasons

    def _row_problems(self, name: str, slot: int, row: list, executable) -> list[str]:
        index = ops_lib.op_index(row[0])
        op = ops_lib.OPS[index]
        if index != ops_lib.NO_OP and index not in executable:
            return [f"{name}[{slot}] uses {op.name}, not an allowed op of {name}"]
        problems = []
        for position, kind in enumerate(op.inputs):
            address = row[1 + position]
            if address >= self.counts[kind]:
                problems.append(
                    f"{name}[{slot}] reads {kind}{address}; the memory has "
                    f"{self.counts[kind]} {source.KIND_NAMES[kind]}"
                )
        if op.output and row[3] >= self.counts[op.output]:
            problems.append(
                f"{name}[{slot}] writes {op.output}{row[3]}; the memory has "
                f"{self.counts[op.output]} {source.KIND_NAMES[op.output]}"
            )
        return problems

    def _analysis(self, genome: Program) -> dict:
        """JSON rows, description and fingerprint of a genome, memoised by its
        bytes (a search meets the same genomes again and again)."""
        leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(genome)]
        key = b"".join(leaf.tobytes() for leaf in leaves)
        found = _ANALYSES.get(key)
        if found is None:
            if len(_ANALYSES) >= _ANALYSES_SIZE:
                _ANALYSES.clear()
            found = _ANALYSES[key] = self._analyse(genome)
        return found

    def _analyse(self, genome: Program) -> dict:
        live = liveness.live_slots(self, genome)
        rows = {name: genome_lib.function_to_rows(genome.function(name)) for name in FUNCTIONS}
        parts, live_rows = [], {}
        for name in FUNCTIONS:
            names = [rows[name][slot][0].lower() for slot in live[name]]
            parts.append(f"{name}: {', '.join(names) if names else '-'}")
            # Random ops keep their slot: it names their draws.
            live_rows[name] = [
                [slot, *rows[name][slot]]
                if ops_lib.OPS[ops_lib.BY_NAME[rows[name][slot][0]]].random
                else rows[name][slot]
                for slot in live[name]
            ]
        return {
            "rows": rows,
            "description": "; ".join(parts),
            "fingerprint": hashlib.sha256(json.dumps(live_rows).encode()).hexdigest(),
        }

    def describe(self, genome: Program) -> str:
        """The ops of the live instructions of each function."""
        return self._analysis(genome)["description"]

    def to_json(self, genome: Program) -> dict:
        rows = self._analysis(genome)["rows"]
        return {name: [list(row) for row in rows[name]] for name in FUNCTIONS}

    def from_json(self, genes: dict) -> Program:
        if not isinstance(genes, dict):
            raise ValueError("genome JSON: expected an object with 'setup', 'predict', 'learn'")
        missing = [name for name in FUNCTIONS if name not in genes]
        if missing:
            raise ValueError(f"genome JSON is missing the gene {missing[0]!r}")
        functions = [
            genome_lib.function_from_rows(genes[name], self.max_sizes[index], name)
            for index, name in enumerate(FUNCTIONS)
        ]
        genome = Program(*functions)
        reasons = self.validate(genome)
        if reasons:
            raise ValueError(f"genome JSON gene {reasons[0]}")
        return genome

    def fingerprint(self, genome: Program) -> str:
        """A hash of the live instructions: dead ones, and the slots of
        instructions other than random set ops, do not count."""
        return self._analysis(genome)["fingerprint"]

    # Optional hooks --------------------------------------------------------

    def measures(self, genome: Program) -> dict:
        """``instructions``: active instructions in all three functions."""
        return {
            "instructions": sum(genome.function(name).length for name in FUNCTIONS),
        }

    def export(self, out_dir, record, params, *, final, data, command):
        from pathways_jax.spaces.program import export

        del params
        return export.write(self, out_dir, record, final=final, tasks=data, command=command)

    def spec(self) -> dict:
        spec = dataclasses.asdict(self)
        spec["allowed_ops"] = [[ops_lib.OPS[i].name for i in ops] for ops in self.allowed_ops]
        return spec
