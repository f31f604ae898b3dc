"""Random programs and their mutations, jit-able (AutoML-Zero's mutator).

Every function here takes a :class:`~pathways_jax.spaces.program.space.ProgramSpace`
(static) and keys and arrays, and returns a valid :class:`Program`. Mutation
types, as in the paper:

- ``alter_param``: one argument of one instruction (an address or a constant)
  drawn again;
- ``randomize_instruction``: one instruction replaced by a random one;
- ``randomize_function``: every instruction of one component function drawn
  again (its size is kept);
- ``insert_instruction`` / ``remove_instruction``: one instruction inserted
  at a random position, or one removed (within the function's size limits);
- ``trade_instruction``: one instruction removed and a random one inserted.

A mutation picks one component function uniformly among those the type can
change (e.g. insertion needs a function below its maximum size); when none
can, the program is returned unchanged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.program import ops as ops_lib
from pathways_jax.spaces.program.genome import FIELDS, FUNCTIONS, Function, Program

MUTATION_TYPES = (
    "alter_param",
    "randomize_instruction",
    "randomize_function",
    "insert_instruction",
    "remove_instruction",
    "trade_instruction",
)

# Which constants an op reads, as a code: none, a value, a value and an
# element index, uniform bounds, a normal's mean and deviation.
_CONSTANT_CODES = {(): 0, ("value",): 1, ("value", "index"): 2, ("range",): 3, ("normal",): 4}
CONSTANT_CODE = np.asarray([_CONSTANT_CODES[op.constants] for op in ops_lib.OPS], np.int32)


def address_ranges(space) -> dict[str, np.ndarray]:
    """Addresses each op may name, per argument: ``{'in1', 'in2', 'out'}`` to
    ``(low, high)`` int32 ``[num_ops]`` arrays (``[0, 1)`` where the op has no
    such argument). Scalar and vector outputs start at 1, as in the paper:
    ``s0`` (the label) and ``v0`` (the features) are never written."""
    count = {"s": space.num_scalars, "v": space.num_vectors, "m": space.num_matrices, "": 1}
    first = [count[op.inputs[0]] if op.inputs else 1 for op in ops_lib.OPS]
    second = [count[op.inputs[1]] if len(op.inputs) > 1 else 1 for op in ops_lib.OPS]
    output = [count[op.output] for op in ops_lib.OPS]
    output_low = [1 if op.output in ("s", "v") else 0 for op in ops_lib.OPS]
    zeros = np.zeros(len(ops_lib.OPS), np.int32)
    return {
        "in1": (zeros, np.asarray(first, np.int32)),
        "in2": (zeros, np.asarray(second, np.int32)),
        "out": (np.asarray(output_low, np.int32), np.asarray(output, np.int32)),
    }


def _address(key, space, field: str, op):
    low, high = (jnp.asarray(a) for a in address_ranges(space)[field])
    return jax.random.randint(key, (), low[op], high[op])


def _constants(key, code):
    """``(c0, c1)`` of a new instruction whose op's constants have ``code``:
    values and means uniform in [-1, 1), index fractions and deviations in
    [0, 1), uniform bounds each in [-1, 1)."""
    key_a, key_b = jax.random.split(key)
    a = jax.random.uniform(key_a, (), jnp.float32, -1.0, 1.0)
    b = jax.random.uniform(key_b, (), jnp.float32, 0.0, 1.0)
    c0 = jnp.where(code == 0, 0.0, a)
    c1 = jnp.select([code <= 1, code == 3], [0.0, 2.0 * b - 1.0], b)
    return c0, c1


def _perturbed(key, value, flip: bool = True):
    """The paper's constant step: the sign flipped with probability 0.1 (if
    ``flip``), else the value scaled by ``exp(N(0, 1))``."""
    key_coin, key_scale = jax.random.split(key)
    scaled = value * jnp.exp(jax.random.normal(key_scale, (), jnp.float32))
    if not flip:
        return scaled
    return jnp.where(jax.random.bernoulli(key_coin, 0.1), -value, scaled)


def _op_table(space) -> tuple[np.ndarray, np.ndarray]:
    """``(ops [3, K], counts [3])``: each function's allowed ops, padded (a
    function without any draws no-ops)."""
    allowed = [ops or (ops_lib.NO_OP,) for ops in space.allowed_ops]
    width = max(len(ops) for ops in allowed)
    table = np.full((len(allowed), width), ops_lib.NO_OP, np.int32)
    for row, ops in enumerate(allowed):
        table[row, : len(ops)] = ops
    return table, np.asarray([len(ops) for ops in allowed], np.int32)


def random_instruction(space, key, index) -> dict:
    """One random instruction of an op allowed in component function
    ``index`` (an int or an int32 scalar), as a dict of scalars."""
    table, counts = (jnp.asarray(a) for a in _op_table(space))
    key_op, key_in1, key_in2, key_out, key_const = jax.random.split(key, 5)
    op = table[index, jax.random.randint(key_op, (), 0, counts[index])]
    c0, c1 = _constants(key_const, jnp.asarray(CONSTANT_CODE)[op])
    return {
        "op": op,
        "in1": _address(key_in1, space, "in1", op),
        "in2": _address(key_in2, space, "in2", op),
        "out": _address(key_out, space, "out", op),
        "c0": c0,
        "c1": c1,
    }


def _set_slot(function: Function, slot, instruction: dict) -> Function:
    return function.replace(
        **{f: getattr(function, f).at[slot].set(instruction[f]) for f in FIELDS}
    )


def _blank(function: Function, mask) -> Function:
    """``function`` with the slots where ``mask`` is True reset to zero no-ops."""
    reset = {
        f: jnp.where(mask, ops_lib.NO_OP if f == "op" else 0, getattr(function, f)).astype(
            getattr(function, f).dtype
        )
        for f in FIELDS
    }
    return function.replace(**reset)


def random_function(space, key, index, length, slots: int) -> Function:
    """``slots`` slots of random instructions of function ``index``, the first
    ``length`` active (the rest blank)."""
    keys = jax.random.split(key, slots)
    rows = jax.vmap(lambda k: random_instruction(space, k, index))(keys)
    function = Function(**rows, length=jnp.asarray(length, jnp.int32))
    return _blank(function, jnp.arange(slots) >= length)


def sample(space, key) -> Program:
    """A starting program: ``init_sizes`` random instructions per function
    (``initial='random'``, the paper's demo), as many no-ops (``'no_op'``), or
    the configured program (``'program'``)."""
    if space.initial == "program":
        return space.initial_genome()
    keys = jax.random.split(key, len(FUNCTIONS))
    functions = []
    for index in range(len(FUNCTIONS)):
        length = space.init_sizes[index]
        function = random_function(space, keys[index], index, length, space.max_sizes[index])
        if space.initial == "no_op":
            function = _blank(function, jnp.ones(function.slots, bool))
            function = function.replace(length=jnp.asarray(length, jnp.int32))
        functions.append(function)
    return Program(*functions)


def _altered_constants(key, code, c0, c1):
    """One constant of an instruction changed the paper's way (see module doc)."""
    key_which, key_step, key_new = jax.random.split(key, 3)
    second = jax.random.bernoulli(key_which, 0.5)
    fraction = jax.random.uniform(key_new, (), jnp.float32, 0.0, 1.0)
    new_c0 = jnp.where((code == 1) | ~second, _perturbed(key_step, c0), c0)
    new_c1 = jnp.select(
        [code == 2, code == 3, code == 4],
        [fraction, _perturbed(key_step, c1), _perturbed(key_step, c1, flip=False)],
        c1,
    )
    new_c1 = jnp.where((code >= 2) & second, new_c1, c1)
    return new_c0, new_c1


# Each mutation below changes one padded function ``[L]`` (the chosen one),
# given a random slot and a random instruction drawn once for all of them.


def _alter_param(space, key, function: Function, slot, fresh) -> Function:
    """One argument the op reads (an input, the output or its constants)
    drawn again; constants are stepped, not redrawn."""
    del fresh
    key_field, key_in1, key_in2, key_out, key_data = jax.random.split(key, 5)
    op = function.op[slot]
    inputs = jnp.asarray([len(o.inputs) for o in ops_lib.OPS], jnp.int32)[op]
    code = jnp.asarray(CONSTANT_CODE)[op]
    usable = jnp.stack([inputs >= 1, inputs >= 2, op != ops_lib.NO_OP, code > 0])
    field = jax.random.categorical(key_field, jnp.where(usable, 0.0, -jnp.inf))
    current = {f: getattr(function, f)[slot] for f in FIELDS}
    c0, c1 = _altered_constants(key_data, code, current["c0"], current["c1"])
    chosen = dict(current)
    chosen["in1"] = jnp.where(field == 0, _address(key_in1, space, "in1", op), current["in1"])
    chosen["in2"] = jnp.where(field == 1, _address(key_in2, space, "in2", op), current["in2"])
    chosen["out"] = jnp.where(field == 2, _address(key_out, space, "out", op), current["out"])
    chosen["c0"] = jnp.where(field == 3, c0, current["c0"])
    chosen["c1"] = jnp.where(field == 3, c1, current["c1"])
    altered = _set_slot(function, slot, chosen)
    return jax.tree_util.tree_map(lambda a, b: jnp.where(jnp.any(usable), a, b), altered, function)


def _randomize_instruction(space, key, function: Function, slot, fresh) -> Function:
    del space, key
    return _set_slot(function, slot, fresh)


def _insert_at(function: Function, slot, fresh) -> Function:
    positions = jnp.arange(function.slots)
    source = jnp.where(positions > slot, positions - 1, positions)
    shifted = function.replace(**{f: getattr(function, f)[source] for f in FIELDS})
    return _set_slot(shifted, slot, fresh).replace(length=function.length + 1)


def _insert(space, key, function: Function, slot, fresh) -> Function:
    """``fresh`` at any of the ``length + 1`` positions."""
    del space, slot
    position = jax.random.randint(key, (), 0, function.length + 1)
    return _insert_at(function, position, fresh)


def _remove(space, key, function: Function, slot, fresh) -> Function:
    del space, key, fresh
    positions = jnp.arange(function.slots)
    source = jnp.minimum(jnp.where(positions >= slot, positions + 1, positions), function.slots - 1)
    shifted = function.replace(**{f: getattr(function, f)[source] for f in FIELDS})
    length = function.length - 1
    return _blank(shifted, positions >= length).replace(length=length)


def _trade(space, key, function: Function, slot, fresh) -> Function:
    """One instruction removed and a random one inserted (the size is kept)."""
    removed = _remove(space, key, function, slot, fresh)
    return _insert(space, key, removed, slot, fresh)


_MUTATIONS = {
    "alter_param": _alter_param,
    "randomize_instruction": _randomize_instruction,
    "insert_instruction": _insert,
    "remove_instruction": _remove,
    "trade_instruction": _trade,
}


def _possible(name: str, lengths, maxima, minima, has_ops):
    """bool ``[3]``: which component functions mutation ``name`` can change."""
    if name == "insert_instruction":
        return has_ops & (lengths < maxima)
    if name == "remove_instruction":
        return has_ops & (lengths > minima)
    return has_ops & (lengths > 0)


def _padded(function: Function, slots: int) -> Function:
    pad = slots - function.slots
    fill = {"op": ops_lib.NO_OP}
    return function.replace(
        **{
            f: jnp.pad(getattr(function, f), (0, pad), constant_values=fill.get(f, 0))
            for f in FIELDS
        }
    )


def mutate(space, key, program: Program) -> Program:
    """With ``space.mutation_probability``, one mutation of a type drawn
    uniformly from ``space.mutation_types`` applied to a component function
    drawn uniformly among those it can change; else the program unchanged."""
    key_coin, key_type, key_function, key_slot, key_new, key_apply = jax.random.split(key, 6)
    slots = max(space.max_sizes)
    functions = [program.function(f) for f in FUNCTIONS]
    lengths = jnp.stack([f.length for f in functions])
    maxima, minima = jnp.asarray(space.max_sizes), jnp.asarray(space.min_sizes)
    has_ops = jnp.asarray([bool(ops) for ops in space.allowed_ops])
    kind = jax.random.randint(key_type, (), 0, len(space.mutation_types))
    possible = jnp.stack(
        [_possible(n, lengths, maxima, minima, has_ops) for n in space.mutation_types]
    )[kind]
    index = jax.random.categorical(key_function, jnp.where(possible, 0.0, -jnp.inf))
    stacked = jax.tree_util.tree_map(
        lambda *leaves: jnp.stack(leaves), *(_padded(f, slots) for f in functions)
    )
    chosen = jax.tree_util.tree_map(lambda leaf: leaf[index], stacked)
    slot = jax.random.randint(key_slot, (), 0, jnp.maximum(chosen.length, 1))
    fresh = random_instruction(space, key_new, index)
    variants = []
    for name in space.mutation_types:
        if name == "randomize_function":
            variants.append(random_function(space, key_apply, index, chosen.length, slots))
        else:
            variants.append(_MUTATIONS[name](space, key_apply, chosen, slot, fresh))
    mutated = variants[0]
    for position in range(1, len(variants)):
        mutated = jax.tree_util.tree_map(
            lambda a, b, p=position: jnp.where(kind == p, a, b), variants[position], mutated
        )
    apply = jax.random.bernoulli(key_coin, space.mutation_probability) & jnp.any(possible)
    result = {}
    for position, name in enumerate(FUNCTIONS):
        take = apply & (index == position)
        own = functions[position]
        cut = mutated.replace(**{f: getattr(mutated, f)[: own.slots] for f in FIELDS})
        result[name] = jax.tree_util.tree_map(lambda a, b, t=take: jnp.where(t, a, b), cut, own)
    return Program(**result)


def crossover(space, key, first: Program, second: Program) -> Program:
    """Each component function from either parent with equal chance."""
    del space
    picks = jax.random.bernoulli(key, 0.5, (len(FUNCTIONS),))
    chosen = {}
    for i, f in enumerate(FUNCTIONS):
        chosen[f] = jax.tree_util.tree_map(
            lambda a, b, t=picks[i]: jnp.where(t, b, a), first.function(f), second.function(f)
        )
    return Program(**chosen)
