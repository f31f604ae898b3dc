"""The pathway space's side of the search-space protocol
(:class:`~pathways_jax.core.protocols.SearchSpace`): genes as JSON, the
equivalence fingerprint, the fallback, the measures constraints limit,
population-based training's perturbation, export and the record of the space.

:class:`~pathways_jax.spaces.pathway.space.PathwaySpace` inherits these; they live
here so that the space's sampling and variation stay one module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.pathway import genome as genome_lib

CROSSOVER_KINDS = ("block", "uniform", "one_point")
# Population-based training multiplies the learning rate by one of these.
PERTURB_FACTORS = (0.8, 1.2)


class PathwayProtocol:
    """Protocol methods of the pathway space (mixed into ``PathwaySpace``)."""

    crossover_kinds = CROSSOVER_KINDS
    default_evaluator = "fresh_weights"
    fallback_name = "the linear model"

    def to_json(self, genome) -> dict:
        """Exact, JSON-serialisable genes (inactive genes included)."""
        return genome_lib.genome_to_json(genome)

    def from_json(self, genes: dict):
        """Inverse of :meth:`to_json`; raises ``ValueError`` naming a bad gene."""
        return genome_lib.genome_from_json(genes, self.tables.max_depth)

    def fingerprint(self, genome) -> str:
        """A hash of what a genome computes: its active blocks (as decoded) and
        its training genes; inactive genes and empty slots do not change it."""
        from pathways_jax.codegen.plain_network import decode_blocks

        blocks = [
            {key: value for key, value in block.items() if key not in ("index", "slot")}
            for block in decode_blocks(self, genome)
        ]
        training = {
            name: np.asarray(getattr(genome, name)).tolist() for name in genome_lib.TRAINING_GENES
        }
        described = {"blocks": blocks, "training": training}
        if genome.input_mask is not None:
            described["inputs"] = np.asarray(genome.input_mask).tolist()
        text = json.dumps(described, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()

    def fallback(self, key):
        """The depth-0 linear model: always valid, the cheapest to train."""
        return self.linear_model(key)

    def measures(self, genome) -> dict:
        """``num_params`` (int32) and forward ``flops`` per example (float32)."""
        from pathways_jax.spaces.pathway import network as pathway_network

        return {
            "num_params": pathway_network.count_parameters(self, genome),
            "flops": pathway_network.count_flops(self, genome),
        }

    def perturb_training(self, key, genome, resample_probability: float = 0.25):
        """Population-based training's explore step: the learning rate times 0.8
        or 1.2, and each of batch size, weight decay and L1 resampled with
        ``resample_probability``; the architecture is unchanged."""
        key_factor, key_batch, key_decay, key_l1, key_coins = jax.random.split(key, 5)
        tables = self.tables
        factor = jnp.asarray(PERTURB_FACTORS, jnp.float32)[jax.random.randint(key_factor, (), 0, 2)]
        low, high = tables.log10_learning_rate_range
        learning_rate = jnp.clip(genome.log10_learning_rate + jnp.log10(factor), low, high)
        coins = jax.random.bernoulli(key_coins, resample_probability, (3,))

        def resample(coin, key, value, cardinality):
            return jnp.where(coin, jax.random.randint(key, (), 0, cardinality), value)

        return genome.replace(
            log10_learning_rate=learning_rate.astype(jnp.float32),
            batch_size=resample(coins[0], key_batch, genome.batch_size, len(tables.batch_sizes)),
            weight_decay=resample(
                coins[1], key_decay, genome.weight_decay, len(tables.weight_decays)
            ),
            l1_penalty=resample(coins[2], key_l1, genome.l1_penalty, len(tables.l1_penalties)),
        )

    def export(self, out_dir, record, params, *, final, data, command=None, formats=None):
        """Standalone Flax (and PyTorch) code, weights and ``predict.py`` of a
        history record and its trained parameters; returns the paths written."""
        from pathways_jax.codegen import export

        return export.export_best(
            out_dir,
            self,
            record,
            params,
            data,
            final,
            command=command,
            formats=formats or export.TARGETS,
        )

    def draw(self, genome, path: str) -> None:
        """The block diagram of a genome's decoded structure, as a PNG file."""
        from pathways_jax.codegen.plain_network import decode_blocks
        from pathways_jax.runs import diagram

        dims = len(self.input_shape) - 1
        boxes = []
        for block in decode_blocks(self, genome):
            if block["op"] == "conv":
                operation = f"conv{dims}d(k{block['kernel']},{block['width']})"
            elif block["op"] == "dense":
                operation = f"dense({block['width']})"
            elif block["op"] == "self_attention":
                operation = f"attention({block['heads']} heads,{block['width']})"
            elif block["op"] == "transformer_mlp":
                operation = f"mlp({block['hidden']},{block['hidden_activation']})"
            elif block["op"] == "position_embedding":
                operation = "position embedding"
            elif block["op"] == "patch_embedding":
                operation = f"patch{dims}d(p{block['patch']},{block['width']})"
            elif block["op"] == "sequence_pool":
                operation = f"{block['readout']} pool"
            else:
                operation = f"{block['op']}{dims}d"
            genes = [] if block["activation"] == "identity" else [block["activation"]]
            if block["norm"] == "layer_norm" and block["norm_first"]:
                genes.insert(0, "layer norm first")
            elif block["norm"] == "layer_norm":
                genes.append("layer norm")
            if block["dropout"]:
                genes.append(f"dropout {block['dropout']:g}")
            boxes.append(diagram.Block(operation, tuple(genes), bool(block["residual"])))
        boxes.append(diagram.Block(f"dense({self.num_outputs})"))
        training = self.describe(genome).partition(" | ")[2].split()
        diagram.draw_blocks(boxes, training, path, f"input {tuple(self.input_shape)}")

    def spec(self) -> dict:
        """What rebuilds this space (written into ``best/genome.json``)."""
        return {
            "tables": dataclasses.asdict(self.tables),
            "input_kind": self.input_kind,
            "input_shape": list(self.input_shape),
            "task": self.task,
            "num_outputs": self.num_outputs,
        }

    @property
    def divergence_hint(self) -> str:
        """How every candidate failed and what to do about it."""
        high = self.tables.log10_learning_rate_range[1]
        return (
            "diverged (NaN or infinite training loss, parameters or validation metric; each "
            f"reason is in history.jsonl); lower space.log10_learning_rate_max (now {high}), "
            "check the data scaling (dataset.standardize), then start again with --overwrite"
        )
