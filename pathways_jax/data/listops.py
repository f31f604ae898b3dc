"""ListOps: nested list operations over digits, a sequence task where far tokens matter.

In the spirit of the Long Range Arena's ListOps (Nangia & Bowman 2018; Tay
et al. 2021), on a scale that trains in seconds: an expression such as
``[MAX 2 9 [MIN 4 7 ] 0 ]`` is a sequence of tokens, and its label is its
value, a digit. Operators are ``MAX``, ``MIN``, ``MED`` (the median, rounded
down) and ``SM`` (the sum modulo 10), each over 2 to 4 arguments; arguments
are digits or, up to ``depth`` levels, nested expressions. The value depends
on tokens anywhere in the sequence, and which tokens belong to which
operator is given by brackets that may be far apart.

Each example is ``[length, 15]``: one-hot tokens (10 digits, 4 operators, the
closing bracket), zeros after the expression's end. Generated from a seed,
offline, in well under a second for thousands of examples.
"""

from __future__ import annotations

import numpy as np

OPERATORS = ("MAX", "MIN", "MED", "SM")
CLOSE = "]"
TOKENS = (*(str(d) for d in range(10)), *(f"[{op}" for op in OPERATORS), CLOSE)
NUM_TOKENS = len(TOKENS)
NUM_CLASSES = 10
# Below the top level, an argument is a nested expression this often.
NESTING_PROBABILITY = 0.3


def _expression(rng: np.random.Generator, depth: int) -> tuple[list[str], int]:
    """One random expression (its tokens and value) nested at most ``depth`` deep."""
    op = OPERATORS[rng.integers(len(OPERATORS))]
    tokens, values = [f"[{op}"], []
    for _ in range(rng.integers(2, 5)):
        if depth > 1 and rng.random() < NESTING_PROBABILITY:
            inner, value = _expression(rng, depth - 1)
            tokens += inner
        else:
            value = int(rng.integers(10))
            tokens.append(str(value))
        values.append(value)
    tokens.append(CLOSE)
    return tokens, _value(op, values)


def _value(op: str, values: list[int]) -> int:
    if op == "MAX":
        return max(values)
    if op == "MIN":
        return min(values)
    if op == "MED":
        return int(np.floor(np.median(values)))
    return sum(values) % 10


def evaluate(tokens: list[str]) -> int:
    """The value of an expression given as tokens (the label's definition)."""
    stack: list[tuple[str, list[int]]] = []
    for token in tokens:
        if token.startswith("["):
            stack.append((token[1:], []))
        elif token == CLOSE:
            op, values = stack.pop()
            if not stack:
                return _value(op, values)
            stack[-1][1].append(_value(op, values))
        else:
            stack[-1][1].append(int(token))
    raise ValueError("unbalanced expression")


def generate(num_examples: int, length: int, depth: int, seed: int):
    """``num_examples`` expressions of at most ``length`` tokens.

    Returns:
      ``(x, y, expressions)``: ``x`` float32 ``[num_examples, length, NUM_TOKENS]``
      one-hot tokens (zero rows after the end), ``y`` int32 ``[num_examples]``
      values, and the expressions as strings.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    x = np.zeros((num_examples, length, NUM_TOKENS), np.float32)
    y = np.zeros((num_examples,), np.int32)
    expressions = []
    index = {token: i for i, token in enumerate(TOKENS)}
    for example in range(num_examples):
        tokens, value = _expression(rng, depth)
        while len(tokens) > length:  # Too long for the sequence: draw again.
            tokens, value = _expression(rng, depth)
        x[example, np.arange(len(tokens)), [index[t] for t in tokens]] = 1.0
        y[example] = value
        expressions.append(" ".join(tokens))
    return x, y, expressions
