"""The random numbers of a program's uniform and Gaussian set ops.

A draw is a pure function of ``(seed, step, function, slot, element)``: the
task's seed, the example counter (0 for ``Setup``, then one per training and
validation example), the component function, the instruction's slot and the
element. It is a counter-based integer hash (no state to carry), written with
an array module ``xp`` (``numpy`` or ``jax.numpy``) in uint32 arithmetic, so
the batched interpreter and an exported NumPy module draw the same numbers,
and removing a dead instruction does not change another's draws.

This file has no dependency besides its ``xp`` argument: exported programs
carry a copy of it.
"""

GOLDEN = 0x9E3779B9


def mix(xp, x):
    """A uint32 avalanche hash of ``x`` (elementwise)."""
    x = x ^ (x >> xp.uint32(16))
    x = x * xp.uint32(0x7FEB352D)
    x = x ^ (x >> xp.uint32(15))
    x = x * xp.uint32(0x846CA68B)
    return x ^ (x >> xp.uint32(16))


def bits(xp, seed, step, function: int, slot: int, size: int):
    """uint32 ``[size]``: the random bits of one instruction's execution."""
    base = mix(xp, xp.asarray(seed, xp.uint32) ^ xp.uint32(GOLDEN))
    base = mix(xp, base + xp.asarray(step, xp.uint32))
    base = mix(xp, base + xp.uint32(function * 1024 + slot + 1))
    counters = xp.arange(size, dtype=xp.uint32) * xp.uint32(GOLDEN)
    return mix(xp, base + counters)


def unit_uniform(xp, random_bits):
    """float32 in [0, 1) from uint32 bits (their top 24)."""
    return (random_bits >> xp.uint32(8)).astype(xp.float32) * xp.float32(2.0**-24)


def uniform(xp, seed, step, function, slot, low, high, shape):
    """float32 ``shape``: uniform between ``low`` and ``high``."""
    size = 1
    for dim in shape:
        size *= dim
    u = unit_uniform(xp, bits(xp, seed, step, function, slot, size))
    value = xp.float32(low) + (xp.float32(high) - xp.float32(low)) * u
    return value.reshape(shape)


def gaussian(xp, seed, step, function, slot, mean, std, shape):
    """float32 ``shape``: normal with ``mean`` and ``std`` (Box-Muller)."""
    size = 1
    for dim in shape:
        size *= dim
    u = unit_uniform(xp, bits(xp, seed, step, function, slot, 2 * size))
    radius = xp.sqrt(xp.float32(-2.0) * xp.log(xp.float32(1.0) - u[:size]))
    angle = xp.float32(2.0 * 3.141592653589793) * u[size:]
    value = xp.float32(mean) + xp.float32(std) * radius * xp.cos(angle)
    return value.reshape(shape)
