"""The batched program interpreter: a round of programs on a set of tasks in
one compiled function.

One lane runs one program on one task exactly as AutoML-Zero's executor
does: memory all zeros, ``Setup()`` once; then for each training example
``v0 = x``, ``s0 = 0``, ``Predict()``, (classification: ``s1 =
sigmoid(s1)``), ``v0 = x``, ``s0 = y``, ``Learn()``; then for each
validation example ``v0 = x``, ``s0 = 0``, ``Predict()`` and the prediction
``s1`` is scored. Memory persists throughout. A training error above
``max_abs_error`` or NaN stops training, and such a validation error, a
non-finite prediction or a failed training makes the task's fitness 0.

Fitness of a task: ``1 - (2 / pi) * arctan(rms_error)`` for regression (1 at
zero error, the paper's flip-and-squash), the accuracy for classification
(``s1 > 0.5``); a program's fitness is the mean over tasks.

Every (program, task) pair is a lane, and every array holds the lanes on
its last axis (a scalar bank is ``[S, L]``, vectors ``[V, F, L]``, matrices
``[M, F, F, L]``): XLA:CPU then vectorises over lanes instead of over the
feature size of 4 (the same code ``vmap`` ped with the lanes first ran at
about a third of the speed when this was written). Examples are
a ``lax.scan``; the instructions of a function are unrolled (their number is
static), and each instruction selects its op's value among the ops the
function may hold, so one compiled program runs any programs of the space.
Slots past a function's length are masked out; running their no-ops
unmasked ran at about half the speed on XLA:CPU when this was written (keep
the mask).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from pathways_jax.spaces.program import ops as ops_lib
from pathways_jax.spaces.program import random_stream
from pathways_jax.spaces.program.genome import FEATURES, FIELDS, FUNCTIONS, LABEL, PREDICTION


@dataclasses.dataclass(frozen=True)
class Machine:
    """What the interpreter needs to know of a space (static, hashable).

    Attributes:
      feature_size: ``F``.
      num_scalars, num_vectors, num_matrices: memory sizes.
      executable_ops: per component function, the ops its instructions may be.
      classification: binary labels in {0, 1}, scored by accuracy.
      max_abs_error: a larger training or validation error fails the task.
    """

    feature_size: int
    num_scalars: int
    num_vectors: int
    num_matrices: int
    executable_ops: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    classification: bool = False
    max_abs_error: float = 100.0


@dataclasses.dataclass(frozen=True)
class Tasks:
    """A set of tasks (arrays with a leading task axis ``[T]``).

    Attributes:
      x_train: float32 ``[T, N, F]``; y_train float32 ``[T, N]``.
      x_valid: float32 ``[T, Nv, F]``; y_valid float32 ``[T, Nv]``.
      seeds: uint32 ``[T]``, the random stream of each task's set ops.
    """

    x_train: jax.Array
    y_train: jax.Array
    x_valid: jax.Array
    y_valid: jax.Array
    seeds: jax.Array

    def first(self, num_tasks: int, num_train: int, num_valid: int) -> Tasks:
        """The first tasks and examples (the behaviour fingerprint's)."""
        return Tasks(
            self.x_train[:num_tasks, :num_train],
            self.y_train[:num_tasks, :num_train],
            self.x_valid[:num_tasks, :num_valid],
            self.y_valid[:num_tasks, :num_valid],
            self.seeds[:num_tasks],
        )


jax.tree_util.register_dataclass(
    Tasks, data_fields=["x_train", "y_train", "x_valid", "y_valid", "seeds"], meta_fields=[]
)

_COMPILED: dict[str, object] = {}


def _expression(op: ops_lib.Op):
    """The op's value as a function of ``(a, b, c0, c1, names)``."""
    if op.expression not in _COMPILED:
        _COMPILED[op.expression] = compile(op.expression, op.name, "eval")
    code = _COMPILED[op.expression]
    return lambda names: eval(code, names)  # noqa: S307 - the op table's own text.


def lane_namespace() -> dict:
    """The op vocabulary on memory whose last axis is the lane: a scalar is
    ``[L]``, a vector ``[F, L]``, a matrix ``[F, F, L]`` (the same meaning as
    :func:`~pathways_jax.spaces.program.ops.namespace` per lane)."""
    names = dict(ops_lib.namespace(jnp))
    over = lambda a: tuple(range(a.ndim - 1))  # Every axis but the lane's.

    def dot(a, b):
        if a.ndim == 2:  # Vector . vector.
            return jnp.sum(a * b, axis=0)
        if b.ndim == 2:  # Matrix . vector.
            return jnp.sum(a * b[None], axis=1)
        return jnp.einsum("ijl,jkl->ikl", a, b)

    def outer(a, b):
        return a[:, None] * b[None]

    def std(a):
        mean = jnp.mean(a, axis=over(a), keepdims=True)
        return jnp.sqrt(jnp.mean((a - mean) ** 2, axis=over(a)))

    names.update(
        ones=lambda size: jnp.ones((size, 1), jnp.float32),
        norm=lambda a: jnp.sqrt(jnp.sum(a * a, axis=over(a))),
        dot=dot,
        outer=outer,
        transpose=lambda a: jnp.swapaxes(a, 0, 1),
        mean=lambda a: jnp.mean(a, axis=over(a)),
        std=std,
        heaviside=lambda a: (a > 0).astype(jnp.float32),
    )
    return names


def _read(bank, address):
    """``bank[address]`` per lane by a mask (no gather; a NaN at another
    address does not leak). ``bank`` is ``[n, ..., L]``, ``address`` ``[L]``."""
    mask = jnp.arange(bank.shape[0])[:, None] == address[None]
    mask = mask.reshape(mask.shape[:1] + (1,) * (bank.ndim - 2) + mask.shape[1:])
    return jnp.sum(jnp.where(mask, bank, 0.0), axis=0)


def _write(bank, address, value, enabled):
    mask = (jnp.arange(bank.shape[0])[:, None] == address[None]) & enabled[None]
    mask = mask.reshape(mask.shape[:1] + (1,) * (bank.ndim - 2) + mask.shape[1:])
    return jnp.where(mask, value[None], bank)


def _draw(kind: str, seeds, step, function_index, slot, first, second, shape):
    """Random values ``[*shape, L]``, one stream per lane's task seed."""
    draw = getattr(random_stream, kind)
    one = lambda seed, a, b: draw(jnp, seed, step, function_index, slot, a, b, shape)
    return jnp.moveaxis(jax.vmap(one)(seeds, first, second), 0, -1)


def _instruction(machine: Machine, function_index: int, slot: int, row: dict, memory, seeds, step):
    """Memory after one instruction; every array has the lanes last."""
    banks = dict(zip(ops_lib.KINDS, memory, strict=True))
    size = machine.feature_size
    executable = [ops_lib.OPS[i] for i in machine.executable_ops[function_index]]
    kinds_read = {(position, kind) for op in executable for position, kind in enumerate(op.inputs)}
    reads = {
        (position, kind): _read(banks[kind], row["in1" if position == 0 else "in2"])
        for position, kind in kinds_read
    }
    names = lane_namespace()
    names["F"] = size
    names["c0"], names["c1"] = row["c0"], row["c1"]
    names["uniform"] = lambda low, high, shape: _draw(
        "uniform", seeds, step, function_index, slot, low, high, shape
    )
    names["gaussian"] = lambda mean, std, shape: _draw(
        "gaussian", seeds, step, function_index, slot, mean, std, shape
    )
    values: dict[str, list] = {kind: [] for kind in ops_lib.KINDS}
    for op in executable:
        if not op.output:
            continue
        names["a"] = reads.get((0, op.inputs[0])) if op.inputs else None
        names["b"] = reads.get((1, op.inputs[1])) if len(op.inputs) > 1 else None
        value = jnp.asarray(_expression(op)(names), jnp.float32)
        shape = banks[op.output].shape[1:]
        if op.element:
            current = _read(banks[op.output], row["out"])
            count = math.prod(shape[:-1])
            flat = current.reshape(count, shape[-1])
            index = jnp.clip(jnp.floor(row["c1"] * count).astype(jnp.int32), 0, count - 1)
            hit = jnp.arange(count)[:, None] == index[None]
            value = jnp.where(hit, row["c0"][None], flat).reshape(shape)
        values[op.output].append((ops_lib.OPS.index(op), jnp.broadcast_to(value, shape)))
    new = []
    for kind in ops_lib.KINDS:
        bank = banks[kind]
        if values[kind]:
            is_op = [row["op"] == index for index, _ in values[kind]]
            shaped = [c.reshape((1,) * (bank.ndim - 2) + c.shape) for c in is_op]
            value = jnp.select(shaped, [v for _, v in values[kind]], jnp.zeros(bank.shape[1:]))
            bank = _write(bank, row["out"], value, jnp.any(jnp.stack(is_op), axis=0))
        new.append(bank)
    return tuple(new)


def _where_lanes(condition, a, b):
    return jnp.where(condition.reshape((1,) * (a.ndim - 1) + condition.shape), a, b)


def run_function(machine: Machine, function_index: int, rows: dict, memory, seeds, step):
    """Memory after the active instructions of one component function.

    Args:
      rows: the function's fields per lane, ``op`` etc. ``[slots, L]``.
    """
    if not machine.executable_ops[function_index]:
        return memory
    # Slots past a function's length hold no-ops (the genome's invariant), so
    # every slot runs: a no-op writes nothing.
    for slot in range(rows["op"].shape[0]):
        row = {field: rows[field][slot] for field in FIELDS}
        after = _instruction(machine, function_index, slot, row, memory, seeds, step)
        active = slot < rows["length"]
        memory = tuple(_where_lanes(active, a, b) for a, b in zip(after, memory, strict=True))
    return memory


def _with_example(memory, x, label):
    scalars, vectors, matrices = memory
    return scalars.at[LABEL].set(label), vectors.at[FEATURES].set(x), matrices


def run_lanes(machine: Machine, functions, x_train, y_train, x_valid, seeds):
    """Programs on tasks, one per lane.

    Args:
      functions: per component function, its fields per lane (see
        :func:`run_function`).
      x_train: float32 ``[N, F, L]``; y_train ``[N, L]``; x_valid ``[Nv, F, L]``.
      seeds: uint32 ``[L]``.

    Returns:
      ``(train_errors [N, L], valid_predictions [Nv, L], failed [L])``: the
      absolute training error of each example (after ``Predict``, before
      ``Learn``), the validation predictions (after the sigmoid for
      classification), and whether training stopped on a too large or NaN error.
    """
    size, lanes = machine.feature_size, seeds.shape[0]
    memory = (
        jnp.zeros((machine.num_scalars, lanes), jnp.float32),
        jnp.zeros((machine.num_vectors, size, lanes), jnp.float32),
        jnp.zeros((machine.num_matrices, size, size, lanes), jnp.float32),
    )
    setup, predict, learn = functions
    memory = run_function(machine, 0, setup, memory, seeds, jnp.uint32(0))
    num_train = x_train.shape[0]
    zeros = jnp.zeros((lanes,), jnp.float32)

    def predicted(memory, x, step):
        memory = run_function(machine, 1, predict, _with_example(memory, x, zeros), seeds, step)
        if machine.classification:
            scalars = memory[0]
            memory = (scalars.at[PREDICTION].set(jax.nn.sigmoid(scalars[PREDICTION])), *memory[1:])
        return memory, memory[0][PREDICTION]

    def train_step(carry, example):
        memory, failed = carry
        x, y, step = example
        trained, prediction = predicted(memory, x, step)
        error = jnp.abs(y - prediction)
        failed = failed | ~(error <= machine.max_abs_error)
        trained = run_function(machine, 2, learn, _with_example(trained, x, y), seeds, step)
        # A failed training stops: memory stays as it was.
        memory = tuple(_where_lanes(failed, a, b) for a, b in zip(memory, trained, strict=True))
        return (memory, failed), error

    steps = jnp.arange(1, num_train + 1, dtype=jnp.uint32)
    (memory, failed), errors = jax.lax.scan(
        train_step, (memory, jnp.zeros((lanes,), bool)), (x_train, y_train, steps)
    )

    def valid_step(memory, example):
        x, step = example
        return predicted(memory, x, step)

    valid_steps = jnp.arange(num_train + 1, num_train + 1 + x_valid.shape[0], dtype=jnp.uint32)
    _, predictions = jax.lax.scan(valid_step, memory, (x_valid, valid_steps))
    return errors, predictions, failed


def task_fitness(machine: Machine, predictions, labels, failed):
    """float32 fitness ``[L]`` of each lane's task in [0, 1] (see the module
    doc); ``predictions`` and ``labels`` are ``[Nv, L]``."""
    error = labels - predictions
    bad = failed | ~jnp.all(jnp.abs(error) <= machine.max_abs_error, axis=0)
    if machine.classification:
        fitness = jnp.mean(((predictions > 0.5) == (labels > 0.5)).astype(jnp.float32), axis=0)
    else:
        rms = jnp.sqrt(jnp.mean(error * error, axis=0))
        fitness = 1.0 - (2.0 / math.pi) * jnp.arctan(rms)
    return jnp.where(bad, 0.0, fitness)


def _lanes(machine: Machine, programs, tasks: Tasks):
    """Every program on every task: lane ``p * T + t``."""
    count, num_tasks = programs.setup.op.shape[0], tasks.seeds.shape[0]
    lanes = count * num_tasks

    def per_lane(leaf):  # [P, ...] -> [..., P * T]
        tiled = jnp.repeat(leaf, num_tasks, axis=0)
        return jnp.moveaxis(tiled, 0, -1)

    def data(leaf):  # [T, N, ...] -> [N, ..., P * T]
        tiled = jnp.tile(leaf[None], (count,) + (1,) * leaf.ndim).reshape((lanes,) + leaf.shape[1:])
        return jnp.moveaxis(tiled, 0, -1)

    functions = [
        {field: per_lane(getattr(programs.function(name), field)) for field in (*FIELDS, "length")}
        for name in FUNCTIONS
    ]
    x_train, y_train = data(tasks.x_train), data(tasks.y_train)  # [N, F, L], [N, L]
    x_valid = data(tasks.x_valid)
    seeds = jnp.tile(tasks.seeds, count)
    errors, predictions, failed = run_lanes(machine, functions, x_train, y_train, x_valid, seeds)
    return errors, predictions, failed, data(tasks.y_valid)


def fitness(machine: Machine, programs, tasks: Tasks):
    """float32 ``[P, T]``: each program's fitness on each task."""
    _, predictions, failed, labels = _lanes(machine, programs, tasks)
    per_lane = task_fitness(machine, predictions, labels, failed)
    return per_lane.reshape(programs.setup.op.shape[0], tasks.seeds.shape[0])


def behaviour(machine: Machine, programs, tasks: Tasks):
    """float32 ``[P, T * (N + Nv)]``: the training errors and validation
    predictions of each program (the behaviour fingerprint's signal)."""
    errors, predictions, _, _ = _lanes(machine, programs, tasks)
    count = programs.setup.op.shape[0]
    signal = jnp.concatenate([errors, predictions], axis=0)  # [N + Nv, P * T]
    return jnp.moveaxis(signal.reshape(signal.shape[0], count, -1), 1, 0).reshape(count, -1)
