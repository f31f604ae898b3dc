"""The behavioural equivalence cache: candidates that behave alike share one evaluation.

The genotype cache (:class:`~pathways_jax.core.stages.EquivalenceCache`)
recognises candidates whose genes compute the same thing. Many do not look
alike and still do: ``s2 = s0 - s1`` then ``s3 = s2 * s2`` and a program that
squares the difference another way. AutoML-Zero's functional equivalence
checking (Real et al. 2020) fingerprints a candidate by what it does on a few
examples instead: this stage asks the evaluator for each child's behaviour
(an array, e.g. its training errors and predictions on 10 + 10 examples),
rounds it to ``significant_bits`` of mantissa, hashes it, and a child whose
hash was seen inherits that candidate's metrics (its history record names it
in ``behaviour_hit_of``). Two children of one round with the same hash are
evaluated once. The evaluator skips every slot a cache answered.

It needs an evaluator with ``behaviour(genomes [R]) -> array [R, k]``: the
``program`` evaluator's is a program's errors and predictions on 10 + 10
examples; ``fresh_weights``' is a pathway's validation metrics on 64 examples
after 10 training steps from one shared key (one more compiled program). A
slot a cache answered trains the space's ``fallback`` instead, as with the
genotype cache. The hash of every evaluated child is in
its history record (``behaviour``), so a resumed search rebuilds the cache.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from pathways_jax.core import stages
from pathways_jax.core.stages import RoundPlan

NOTE = "behaviour_hit_of"


def behaviour_hash(signal: np.ndarray, significant_bits: int = 16) -> str:
    """A hash of ``signal`` rounded to ``significant_bits`` of mantissa
    (NaN, +inf and -inf each hash as themselves)."""
    values = np.asarray(signal, np.float64)
    mantissa, exponent = np.frexp(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0))
    scale = float(2**significant_bits)
    rounded = np.ldexp(np.round(mantissa * scale) / scale, exponent)
    special = np.select([np.isnan(values), values == np.inf, values == -np.inf], [1, 2, 3], 0)
    return hashlib.sha256(rounded.tobytes() + special.astype(np.int8).tobytes()).hexdigest()[:32]


class BehaviourCache:
    """Behaviour hash → (id, metrics) of every candidate evaluated so far."""

    def __init__(self, behaviour, significant_bits: int = 16, space=None):
        self.behaviour = behaviour
        self.space = space  # With a fallback hook, hits' slots train it instead.
        self.significant_bits = significant_bits
        self.entries: dict[str, tuple[int, dict]] = {}
        self.lookups = 0
        self.hits = 0
        self._pending: dict[int, int] = {}  # Slot → slot of this round it copies.

    def before(self, key, strategy, state, plan: RoundPlan, num_real: int) -> RoundPlan:
        del strategy, state
        signals = self.behaviour(plan.trained)
        self._pending, first_of = {}, {}
        for slot in range(num_real):
            if plan.cached[slot] is not None:  # The genotype cache answered it.
                continue
            self.lookups += 1
            digest = behaviour_hash(signals[slot], self.significant_bits)
            found = self.entries.get(digest)
            if found is not None:
                plan.notes[slot][NOTE] = found[0]
                plan.cached[slot] = found[1]
                self.hits += 1
            elif digest in first_of:
                self._pending[slot] = first_of[digest]
                plan.cached[slot] = {}  # Filled from that slot's record after the round.
                plan.notes[slot][NOTE] = None  # Its id is known when the round is recorded.
                self.hits += 1
            else:
                first_of[digest] = slot
                plan.notes[slot]["behaviour"] = digest
        if self.space is not None and hasattr(self.space, "fallback"):
            answered = [NOTE in notes for notes in plan.notes]
            trained = stages._fallback_where(self.space, key, plan.trained, np.asarray(answered))
            plan = dataclasses.replace(plan, trained=trained)
        return plan

    def after(self, plan: RoundPlan, records: list[dict]) -> list[dict]:
        records = list(records)
        for slot in range(len(records)):
            if NOTE in plan.notes[slot] and slot not in self._pending:
                records[slot] = dict(plan.cached[slot])
        for slot, source in self._pending.items():
            records[slot] = dict(records[source])
            plan.cached[slot] = records[source]
        return records

    def record(self, plan: RoundPlan, lines: list[dict]) -> None:
        """Remember the round's evaluated children; name the source of
        in-round duplicates (known only now: their source's id)."""
        for slot, source in self._pending.items():
            lines[slot][NOTE] = lines[source]["id"]
        for line in lines:
            digest = line.get("behaviour")
            if digest is not None:
                self.entries.setdefault(digest, (line["id"], line["metrics"]))

    def resume(self, kept: list[dict], progress: dict) -> None:
        self._pending = {}
        self.record(RoundPlan(None, None, None, [], [], []), kept)
        self.lookups = progress.get("behaviour_lookups", 0)
        self.hits = progress.get("behaviour_hits", 0)

    def progress(self) -> dict:
        return {"behaviour_lookups": self.lookups, "behaviour_hits": self.hits}

    @property
    def hit_rate(self) -> float:
        return self.hits / max(self.lookups, 1)

    def round_metrics(self) -> dict:
        return {"behaviour_hit_rate": round(self.hit_rate, 4)}
