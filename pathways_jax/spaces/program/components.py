"""The program space on the search stack: space and evaluator registered as ``program``.

A program search config (``configs/automl_zero_linear.py``) has a ``space``
section with the memory, op sets, sizes and mutations, and an ``evaluator``
section with the chunk size, the behaviour fingerprint's examples and the
task sets (``evaluator.tasks``). Every check raises
:class:`~pathways_jax.config.ConfigError` naming the key.
"""

from __future__ import annotations

import json
import os

import ml_collections

from pathways_jax.config import ConfigError, _require, default_config
from pathways_jax.core import registry
from pathways_jax.evaluators.programs import ProgramEvaluator, ProgramEvaluatorSettings
from pathways_jax.spaces.program import ops as ops_lib
from pathways_jax.spaces.program import programs, variation
from pathways_jax.spaces.program import tasks as tasks_lib
from pathways_jax.spaces.program.genome import FUNCTIONS
from pathways_jax.spaces.program.space import INITIALS, ProgramSpace

DEMO_OPS = (
    "SCALAR_CONST_SET",
    "VECTOR_INNER_PRODUCT",
    "SCALAR_DIFF",
    "SCALAR_PRODUCT",
    "SCALAR_VECTOR_PRODUCT",
    "VECTOR_SUM",
)
SPACE_KEYS = {
    "feature_size": 4,
    "num_scalars": 4,
    "num_vectors": 3,
    "num_matrices": 1,
    "setup_ops": DEMO_OPS,
    "predict_ops": DEMO_OPS,
    "learn_ops": DEMO_OPS,
    "min_sizes": (1, 1, 1),  # Setup, Predict, Learn.
    "max_sizes": (10, 2, 8),
    "init_sizes": (10, 2, 8),
    "initial": "random",  # 'random', 'no_op' or 'program'.
    # initial='program': a built-in program's name (spaces/program/programs.py)
    # or the path of a genome JSON file ({'setup': [...], ...}).
    "initial_program": "",
    "mutation_types": ("alter_param", "randomize_instruction", "randomize_function"),
    "mutation_probability": 0.9,
    "classification": False,
}
TASK_KEYS = {
    field: getattr(tasks_lib.TaskSettings(), field)
    for field in tasks_lib.TaskSettings.__dataclass_fields__
}
EVALUATOR_KEYS = {
    "chunk_size": 64,
    "fingerprint_tasks": 1,
    "fingerprint_train": 10,
    "fingerprint_valid": 10,
}


def program_config() -> ml_collections.ConfigDict:
    """A program search config with AutoML-Zero's linear-regression demo settings."""
    config = default_config()
    config.space = {"name": "program", "module": "", **SPACE_KEYS}
    config.evaluator = {
        "name": "program",
        "module": "",
        **EVALUATOR_KEYS,
        "tasks": dict(TASK_KEYS),
    }
    config.strategy.name = "regularized"
    config.strategy.population_size = 1000
    config.strategy.sample_size = 10
    config.strategy.sample_with_replacement = True  # As the paper.
    config.strategy.crossover_probability = 0.0
    config.strategy.crossover_kind = "function"
    config.strategy.equivalence_cache = True
    config.strategy.behaviour_cache = True
    config.parallel.round_size = 250
    config.parallel.num_devices = 1
    config.final.top_k = 10
    config.checkpoint.every_rounds = 40
    config.progress.record_cache_hits = False  # Most of millions of candidates are hits.
    return config


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_keys(section, name: str, expected: dict, extra: tuple = ()) -> None:
    unknown = sorted(set(section) - set(expected) - {"name", "module", *extra})
    _require(not unknown, name, unknown, f"only keys {sorted(expected)}")


def _op_indices(names, key: str) -> tuple[int, ...]:
    _require(
        isinstance(names, (tuple, list)) and all(isinstance(n, str) for n in names),
        key,
        names,
        "a sequence of op names, e.g. ('SCALAR_DIFF', 'VECTOR_INNER_PRODUCT')",
    )
    try:
        return tuple(sorted({ops_lib.op_index(name) for name in names} - {ops_lib.NO_OP}))
    except ValueError as error:
        raise ConfigError(f"config.{key}={tuple(names)!r} is invalid: {error}") from None


def _sizes(values, key: str) -> tuple[int, int, int]:
    _require(
        isinstance(values, (tuple, list))
        and len(values) == 3
        and all(_is_int(v) and v >= 0 for v in values),
        key,
        values,
        "three integers >= 0 (setup, predict, learn)",
    )
    return tuple(int(v) for v in values)


def _initial_program(name: str, key: str) -> str:
    if name in programs.PROGRAMS:
        return json.dumps(programs.PROGRAMS[name])
    _require(
        bool(name) and os.path.isfile(os.path.expanduser(name)),
        key,
        name,
        f"one of {tuple(programs.PROGRAMS)} or the path of a genome JSON file",
    )
    try:
        with open(os.path.expanduser(name)) as file:
            genes = json.load(file)
    except (OSError, ValueError) as error:
        raise ConfigError(f"config.{key}={name!r} cannot be read: {error}") from None
    return json.dumps(genes.get("genome", genes))  # A best/genome.json works too.


@registry.register_space("program")
def program_space(settings, context) -> ProgramSpace:
    """The program space of ``config.space``."""
    del context  # The space needs no data: the tasks are the evaluator's.
    _check_keys(settings, "space", SPACE_KEYS)
    values = {key: settings.get(key, default) for key, default in SPACE_KEYS.items()}
    for key in ("feature_size", "num_scalars", "num_vectors", "num_matrices"):
        _require(
            _is_int(values[key]) and values[key] >= 1,
            f"space.{key}",
            values[key],
            "an integer >= 1",
        )
    _require(
        values["num_scalars"] >= 2,
        "space.num_scalars",
        values["num_scalars"],
        "an integer >= 2 (s0 label, s1 prediction)",
    )
    _require(
        values["initial"] in INITIALS, "space.initial", values["initial"], f"one of {INITIALS}"
    )
    types = values["mutation_types"]
    _require(
        isinstance(types, (tuple, list))
        and len(types) >= 1
        and set(types) <= set(variation.MUTATION_TYPES),
        "space.mutation_types",
        types,
        f"one or more of {variation.MUTATION_TYPES}",
    )
    probability = values["mutation_probability"]
    _require(
        isinstance(probability, (int, float)) and 0 <= probability <= 1,
        "space.mutation_probability",
        probability,
        "a probability in [0, 1]",
    )
    sizes = {
        key: _sizes(values[key], f"space.{key}") for key in ("min_sizes", "max_sizes", "init_sizes")
    }
    initial_program = ""
    if values["initial"] == "program":
        initial_program = _initial_program(values["initial_program"], "space.initial_program")
        start = json.loads(initial_program)
        # The starting program's sizes are its own (it may be longer than max_sizes).
        lengths = tuple(len(start.get(name, [])) for name in FUNCTIONS)
        sizes["init_sizes"] = lengths
        sizes["max_sizes"] = tuple(
            max(m, n) for m, n in zip(sizes["max_sizes"], lengths, strict=True)
        )
        sizes["min_sizes"] = tuple(
            min(m, n) for m, n in zip(sizes["min_sizes"], lengths, strict=True)
        )
    for index, name in enumerate(FUNCTIONS):
        low, high, init = (sizes[k][index] for k in ("min_sizes", "max_sizes", "init_sizes"))
        _require(
            low <= init <= high,
            "space.init_sizes",
            sizes["init_sizes"],
            f"min_sizes <= init_sizes <= max_sizes ({name}: {low} <= {init} <= {high})",
        )
    max_sizes = sizes["max_sizes"]
    allowed = tuple(_op_indices(values[f"{n}_ops"], f"space.{n}_ops") for n in FUNCTIONS)
    try:
        return ProgramSpace(
            feature_size=values["feature_size"],
            num_scalars=values["num_scalars"],
            num_vectors=values["num_vectors"],
            num_matrices=values["num_matrices"],
            allowed_ops=allowed,
            min_sizes=sizes["min_sizes"],
            max_sizes=max_sizes,
            init_sizes=sizes["init_sizes"],
            initial=values["initial"],
            initial_program=initial_program,
            mutation_types=tuple(types),
            mutation_probability=float(probability),
            classification=bool(values["classification"]),
        )
    except ValueError as error:
        raise ConfigError(f"config.space.initial_program: {error}") from None


def task_settings(settings) -> tasks_lib.TaskSettings:
    """The checked ``config.evaluator.tasks``."""
    section = settings.get("tasks", {}) or {}
    _check_keys(section, "evaluator.tasks", TASK_KEYS)
    values = {key: section.get(key, default) for key, default in TASK_KEYS.items()}
    _require(
        values["kind"] in tasks_lib.KINDS,
        "evaluator.tasks.kind",
        values["kind"],
        f"one of {tasks_lib.KINDS}",
    )
    for key in (
        "feature_size",
        "num_train",
        "num_valid",
        "final_num_train",
        "final_num_valid",
        "num_search",
        "num_selection",
        "num_final",
    ):
        _require(
            _is_int(values[key]) and values[key] >= 1,
            f"evaluator.tasks.{key}",
            values[key],
            "an integer >= 1",
        )
    _require(
        _is_int(values["seed"]) and values["seed"] >= 0,
        "evaluator.tasks.seed",
        values["seed"],
        "an integer >= 0",
    )
    _require(
        values["dataset"] in ("digits", "mnist1d"),
        "evaluator.tasks.dataset",
        values["dataset"],
        "'digits' or 'mnist1d'",
    )
    return tasks_lib.TaskSettings(**values)


@registry.register_evaluator("program")
def program_evaluator(config, context) -> ProgramEvaluator:
    """Programs run on the tasks of ``config.evaluator.tasks``."""
    section = config.evaluator
    _check_keys(section, "evaluator", EVALUATOR_KEYS, extra=("tasks",))
    values = {key: section.get(key, default) for key, default in EVALUATOR_KEYS.items()}
    for key, value in values.items():
        _require(_is_int(value) and value >= 1, f"evaluator.{key}", value, "an integer >= 1")
    tasks = task_settings(section)
    _require(
        values["fingerprint_tasks"] <= tasks.num_search,
        "evaluator.fingerprint_tasks",
        values["fingerprint_tasks"],
        f"at most evaluator.tasks.num_search={tasks.num_search}",
    )
    for key, limit in (
        ("fingerprint_train", tasks.num_train),
        ("fingerprint_valid", tasks.num_valid),
    ):
        _require(
            values[key] <= limit,
            f"evaluator.{key}",
            values[key],
            f"at most the {limit} examples of a search task",
        )
    try:
        return ProgramEvaluator(context.space, tasks, ProgramEvaluatorSettings(**values))
    except ValueError as error:
        raise ConfigError(str(error)) from None
