"""A found program as standalone code: NumPy and JAX modules that learn and predict.

``best/`` of a program search holds:

- ``program.py``: NumPy only. ``LearnedProgram(seed).fit(x, y).predict(x)``
  runs ``Setup``, then ``Predict``/``Learn`` over the training examples,
  then ``Predict`` on new ones, exactly as the search's interpreter did;
  ``python program.py`` evaluates it on the recorded final tasks and checks
  the recorded fitness.
- ``program_jax.py``: the same in JAX (pure functions, ``lax.scan``).
- ``program_ops.py``, ``random_stream.py``: the op vocabulary and the random
  stream both modules use (copies of the framework's own files).
- ``final_tasks.npz``: the final tasks; ``listing.txt``: the program the
  paper's way; ``program.json``: the genome, the fitness on each task set,
  and the dead-code check (the search fitness with the dead instructions
  made no-ops, which must equal the program's own).

Only live instructions are written (:mod:`~pathways_jax.spaces.program.liveness`).
"""

from __future__ import annotations

import json
import os
import re
import shutil

import numpy as np

from pathways_jax.spaces.program import liveness, source
from pathways_jax.spaces.program import ops as ops_lib
from pathways_jax.spaces.program.genome import FUNCTIONS

_HERE = os.path.dirname(os.path.abspath(__file__))


def _names_used(space, genome) -> list[str]:
    """The op-vocabulary functions the live code calls."""
    live = liveness.live_slots(space, genome)
    vocabulary = ops_lib.namespace(np)
    names = set()
    for name in FUNCTIONS:
        function = genome.function(name)
        for slot in live[name]:
            expression = ops_lib.OPS[int(function.op[slot])].expression
            names |= {n for n in vocabulary if re.search(rf"\b{n}\(", expression)}
    return sorted(names)


def _bodies(space, genome, style: str) -> str:
    """``def Setup(...)``, ``def Predict(...)``, ``def Learn(...)`` in ``style``."""
    live = liveness.live_slots(space, genome)
    blocks = []
    for name in FUNCTIONS:
        lines = source.function_lines(space, genome, name, style, live)
        head = f"def {source.TITLES[name]}(s, v, m, step, draw):"
        lines = [*lines, "return s, v, m"] if style == "jax" else (lines or ["pass"])
        blocks.append(head + "\n" + "\n".join(f"    {line}" for line in lines))
    return "\n\n\n".join(blocks)


_HEADER = '''"""{title}

{listing_doc}
Memory: {num_scalars} scalars s, {num_vectors} vectors v and {num_matrices} matrices m
of size F={feature_size}; the features of an example are written to v[0], its label
to s[0] (after Predict, before Learn) and the prediction is read from s[1].
{usage}
"""
'''

_NUMPY_BODY = '''
import json
import math
import os
import sys

import numpy as np

import program_ops
import random_stream
{common}

def _sigmoid(x):
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))


class LearnedProgram:
    """fit(x [N, F], y [N]) learns with Setup and Learn; predict(x [n, F]) -> [n]."""

    def __init__(self, seed=0):
        self.seed = seed

    def fit(self, x, y):
        x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
        self.s = np.zeros(MEMORY[0], np.float32)
        self.v = np.zeros((MEMORY[1], F), np.float32)
        self.m = np.zeros((MEMORY[2], F, F), np.float32)
        self.failed = False
        draw, s, v, m = Draw(self.seed), self.s, self.v, self.m
        with np.errstate(all="ignore"):
            Setup(s, v, m, 0, draw)
            for index in range(x.shape[0]):
                step = index + 1
                v[0], s[0] = x[index], 0.0
                Predict(s, v, m, step, draw)
                if CLASSIFICATION:
                    s[1] = _sigmoid(s[1])
                if not abs(y[index] - s[1]) <= MAX_ABS_ERROR:
                    self.failed = True  # Training stops on a huge or NaN error.
                    break
                v[0], s[0] = x[index], y[index]
                Learn(s, v, m, step, draw)
        self.step = x.shape[0]
        return self

    def predict(self, x):
        draw, s, v, m = Draw(self.seed), self.s, self.v, self.m
        predictions = []
        with np.errstate(all="ignore"):
            for row in np.asarray(x, np.float32):
                self.step += 1
                v[0], s[0] = row, 0.0
                Predict(s, v, m, self.step, draw)
                if CLASSIFICATION:
                    s[1] = _sigmoid(s[1])
                predictions.append(s[1])
        return np.asarray(predictions, np.float32)


def task_fitness(predictions, labels, failed):
    """The search's fitness of one task (1 - 2/pi atan(rms error), or accuracy)."""
    error = labels - predictions
    if failed or not np.all(np.abs(error) <= MAX_ABS_ERROR):
        return 0.0
    if CLASSIFICATION:
        return float(np.mean((predictions > 0.5) == (labels > 0.5)))
    return float(1.0 - 2.0 / math.pi * math.atan(math.sqrt(float(np.mean(error * error)))))


def evaluate(path):
    """Mean fitness over the tasks of an npz file (x_train, y_train, x_valid, y_valid, seeds)."""
    tasks = np.load(path)
    scores = []
    for task in range(tasks["seeds"].shape[0]):
        model = LearnedProgram(int(tasks["seeds"][task]))
        model.fit(tasks["x_train"][task], tasks["y_train"][task])
        scores.append(task_fitness(model.predict(tasks["x_valid"][task]), tasks["y_valid"][task], model.failed))
    return float(np.mean(scores))


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "program.json")) as file:
        recorded = json.load(file)["fitness"]["final"]
    fitness = evaluate(os.path.join(here, "final_tasks.npz"))
    print(f"fitness on the final tasks: {{fitness:.6f}} (recorded {{recorded:.6f}})")
    sys.exit(0 if abs(fitness - recorded) <= 1e-4 else 1)
'''

_JAX_BODY = '''
import jax
import jax.numpy as jnp
import numpy as np

import program_ops
import random_stream
{common}

def _predicted(memory, x, step, draw):
    s, v, m = memory
    s, v, m = Predict(s.at[0].set(0.0), v.at[0].set(x), m, step, draw)
    if CLASSIFICATION:
        s = s.at[1].set(jax.nn.sigmoid(s[1]))
    return (s, v, m), s[1]


def fit(x, y, seed=0):
    """Memory after Setup and Learn over ``x [N, F]``, ``y [N]``, and whether training failed."""
    return _fit(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), np.uint32(seed))


def predict(memory, x, seed=0, first_step=1):
    """Predictions ``[n]`` for ``x [n, F]``, continuing the memory of ``fit``
    (``first_step``: the number of training examples + 1)."""
    return _predict(memory, jnp.asarray(x, jnp.float32), np.uint32(seed), np.uint32(first_step))


@jax.jit
def _fit(x, y, seed):
    draw = Draw(seed)
    memory = (
        jnp.zeros(MEMORY[0], jnp.float32),
        jnp.zeros((MEMORY[1], F), jnp.float32),
        jnp.zeros((MEMORY[2], F, F), jnp.float32),
    )
    memory = Setup(*memory, jnp.uint32(0), draw)

    def step(carry, example):
        memory, failed = carry
        x, y, index = example
        trained, prediction = _predicted(memory, x, index, draw)
        failed = failed | ~(jnp.abs(y - prediction) <= MAX_ABS_ERROR)
        s, v, m = trained
        trained = Learn(s.at[0].set(y), v.at[0].set(x), m, index, draw)
        memory = tuple(jnp.where(failed, a, b) for a, b in zip(memory, trained))
        return (memory, failed), None

    steps = jnp.arange(1, x.shape[0] + 1, dtype=jnp.uint32)
    (memory, failed), _ = jax.lax.scan(step, (memory, jnp.asarray(False)), (x, y, steps))
    return memory, failed


@jax.jit
def _predict(memory, x, seed, first_step):
    draw = Draw(seed)
    steps = first_step + jnp.arange(x.shape[0], dtype=jnp.uint32)
    _, predictions = jax.lax.scan(lambda mem, ex: _predicted(mem, ex[0], ex[1], draw), memory, (x, steps))
    return predictions


def evaluate(path):
    """Mean fitness over the tasks of an npz file, as the search computes it."""
    tasks = np.load(path)
    scores = []
    for task in range(tasks["seeds"].shape[0]):
        seed = int(tasks["seeds"][task])
        x_train, y_train = tasks["x_train"][task], tasks["y_train"][task]
        memory, failed = fit(x_train, y_train, seed)
        predictions = np.asarray(predict(memory, tasks["x_valid"][task], seed, x_train.shape[0] + 1))
        error = tasks["y_valid"][task] - predictions
        if bool(failed) or not np.all(np.abs(error) <= MAX_ABS_ERROR):
            scores.append(0.0)
        elif CLASSIFICATION:
            scores.append(float(np.mean((predictions > 0.5) == (tasks["y_valid"][task] > 0.5))))
        else:
            scores.append(1.0 - 2.0 / np.pi * float(np.arctan(np.sqrt(np.mean(error * error)))))
    return float(np.mean(scores))


if __name__ == "__main__":
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    print(f"fitness on the final tasks: {{evaluate(os.path.join(here, 'final_tasks.npz')):.6f}}")
'''


# What both modules start with (``{xp}``: ``np`` or ``jnp``).
_COMMON = '''
F = {feature_size}
MEMORY = ({num_scalars}, {num_vectors}, {num_matrices})  # Scalars, vectors, matrices.
CLASSIFICATION = {classification}
MAX_ABS_ERROR = {max_abs_error}
{names} = (program_ops.namespace({xp})[name] for name in {names_tuple})


class Draw:
    """The random numbers of set ops: a function of the seed and the place."""

    def __init__(self, seed):
        self.seed = seed

    def uniform(self, step, function, slot, low, high, shape):
        return random_stream.uniform({xp}, self.seed, step, function, slot, low, high, shape)

    def gaussian(self, step, function, slot, mean, std, shape):
        return random_stream.gaussian({xp}, self.seed, step, function, slot, mean, std, shape)


{bodies}
'''


def module_text(space, genome, style: str, command: str | None = None) -> str:
    """The source of ``program.py`` (``style='numpy'``) or ``program_jax.py`` (``'jax'``)."""
    names = _names_used(space, genome) or ["dot"]
    listing = source.listing(space, genome)
    usage = (
        "\n    python program.py   # fit and score on the recorded final tasks\n\n"
        "    from program import LearnedProgram\n"
        "    model = LearnedProgram().fit(x_train, y_train)  # x [N, F], y [N]\n"
        "    predictions = model.predict(x_new)\n"
        if style == "numpy"
        else "\n    memory, failed = fit(x_train, y_train, seed)\n"
        "    predictions = predict(memory, x_new, seed, len(x_train) + 1)\n"
    )
    if command:
        usage += f"\nFound by: {command}\n"
    fields = {
        "feature_size": space.feature_size,
        "num_scalars": space.num_scalars,
        "num_vectors": space.num_vectors,
        "num_matrices": space.num_matrices,
        "classification": space.classification,
        "max_abs_error": space.machine.max_abs_error,
        "names": ", ".join(names) + ("," if len(names) == 1 else ""),
        "names_tuple": repr(tuple(names)),
        "bodies": _bodies(space, genome, style),
    }
    title = (
        "A learning algorithm found by program search (NumPy)."
        if style == "numpy"
        else "A learning algorithm found by program search (JAX)."
    )
    header = _HEADER.format(
        title=title,
        listing_doc="    " + listing.replace("\n", "\n    ").rstrip() + "\n",
        usage=usage,
        **{k: fields[k] for k in ("feature_size", "num_scalars", "num_vectors", "num_matrices")},
    )
    body = _NUMPY_BODY if style == "numpy" else _JAX_BODY
    common = _COMMON.format(xp="np" if style == "numpy" else "jnp", **fields)
    return header + body.format(common=common)


def write_tasks(path: str, task_set) -> None:
    np.savez_compressed(
        path,
        **{
            field: np.asarray(getattr(task_set, field))
            for field in ("x_train", "y_train", "x_valid", "y_valid", "seeds")
        },
    )


def write(space, out_dir: str, record: dict, *, final: dict, tasks, command) -> list[str]:
    """Write ``best/`` for the chosen program (see the module doc); returns the files."""
    os.makedirs(out_dir, exist_ok=True)
    genome = space.from_json(record["genome"])
    written = []

    def emit(name: str, text: str) -> None:
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as file:
            file.write(text)
        written.append(name)

    emit("program.py", module_text(space, genome, "numpy", command))
    emit("program_jax.py", module_text(space, genome, "jax", command))
    emit("listing.txt", source.listing(space, genome))
    for module, name in (("ops.py", "program_ops.py"), ("random_stream.py", "random_stream.py")):
        shutil.copyfile(os.path.join(_HERE, module), os.path.join(out_dir, name))
        written.append(name)
    if tasks is not None:
        write_tasks(os.path.join(out_dir, "final_tasks.npz"), tasks.sets["final"])
        written.append("final_tasks.npz")
    summary = {
        "genome": record["genome"],
        "fitness": {
            "search": record["metrics"]["fitness"],
            "selection": final["validation"]["fitness"],
            "final": final["test"]["fitness"],
        },
        "dead_code_check": final.get("dead_code_check"),
        "space": space.spec(),
    }
    emit("program.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return written
