"""The PathNet space: pathways through a modular super-network of shared weights.

PathNet (Fernando et al. 2017) is a fixed network of ``L`` layers of ``M``
modules each. A genome is an int32 ``[L, N]`` matrix of module indices: layer
``l`` of the pathway uses the modules ``genome[l]`` (a module named twice is
used once, so at most ``N`` are active). A layer's output is the sum (as in the
paper) or the mean of its active modules' outputs; a per-task readout layer
maps the last layer to the task's classes. The module weights are not part of
the genome: the whole population shares one set, ``init_params``.

Modules are dense (``units`` ReLU units, 20 in the paper; a sequence or image
input is flattened first) or convolutional (``units`` channels, a ``SAME``
1-D or 2-D convolution of ``kernel_size`` followed by ReLU; the readout
flattens the last map).

All ``M`` modules of a layer are computed by one matmul or one convolution with
``M * units`` outputs and the inactive ones are multiplied by zero, so every
genome runs the same program and the gradient of an unused module is exactly
zero.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

MODULE_KINDS = ("dense", "conv")
AGGREGATIONS = ("sum", "mean")
MUTATIONS = ("paper", "resample")


@dataclasses.dataclass(frozen=True)
class PathNetSpace:
    """Static settings of a PathNet super-network (hashable: used as a jit static).

    Attributes:
      input_shape: shape of one example, e.g. ``(64,)`` or ``(40, 1)``.
      num_outputs: width of the readout (classes of the task).
      num_layers: ``L``.
      num_modules: ``M``, modules per layer.
      max_active: ``N``, module genes per layer (at most ``N`` active modules).
      module_kind: ``'dense'`` or ``'conv'``.
      units: ReLU units of a dense module, or channels of a conv module.
      kernel_size: width of a conv module's kernel (odd).
      aggregation: ``'sum'`` or ``'mean'`` of the active modules of a layer.
      mutation: ``'paper'`` (each gene with probability ``1/(N*L)`` shifted by
        an integer in [-2, 2], wrapped modulo ``M``) or ``'resample'`` (the
        generic engine's point mutation: one gene redrawn to another module).
    """

    input_shape: tuple[int, ...]
    num_outputs: int = 2
    num_layers: int = 3
    num_modules: int = 10
    max_active: int = 3
    module_kind: str = "dense"
    units: int = 20
    kernel_size: int = 5
    aggregation: str = "sum"
    mutation: str = "paper"

    crossover_kinds = ("layer",)
    default_evaluator = "shared_weights"
    divergence_hint = "failed (each reason is in history.jsonl)"

    def __post_init__(self):
        object.__setattr__(self, "input_shape", tuple(int(d) for d in self.input_shape))
        checks = (
            (self.module_kind in MODULE_KINDS, "module_kind", f"one of {MODULE_KINDS}"),
            (self.aggregation in AGGREGATIONS, "aggregation", f"one of {AGGREGATIONS}"),
            (self.mutation in MUTATIONS, "mutation", f"one of {MUTATIONS}"),
            (self.num_layers >= 1, "num_layers", "an integer >= 1"),
            (self.num_modules >= 1, "num_modules", "an integer >= 1"),
            (1 <= self.max_active <= self.num_modules, "max_active", "in [1, num_modules]"),
            (self.units >= 1, "units", "an integer >= 1"),
            (self.num_outputs >= 1, "num_outputs", "an integer >= 1"),
            (self.kernel_size >= 1 and self.kernel_size % 2 == 1, "kernel_size", "odd, >= 1"),
            (
                self.module_kind == "dense" or len(self.input_shape) in (2, 3),
                "module_kind",
                "'dense' for vector inputs (conv modules need [length, channels] or "
                "[height, width, channels] examples)",
            ),
        )
        for ok, field, expected in checks:
            if not ok:
                raise ValueError(f"space.{field}={getattr(self, field)!r} (expected {expected})")

    # ------------------------------------------------------------------ genomes

    @property
    def genome_shape(self) -> tuple[int, int]:
        return (self.num_layers, self.max_active)

    def sample(self, key) -> jnp.ndarray:
        """A random pathway: int32 ``[L, N]`` module indices, uniform in ``[0, M)``."""
        return jax.random.randint(key, self.genome_shape, 0, self.num_modules, jnp.int32)

    def mutate(self, key, genome: jnp.ndarray) -> jnp.ndarray:
        """A mutated copy of ``genome`` ``[L, N]`` (see ``mutation``)."""
        if self.mutation == "paper":
            pick_key, shift_key = jax.random.split(key)
            rate = 1.0 / (self.max_active * self.num_layers)
            chosen = jax.random.bernoulli(pick_key, rate, genome.shape)
            shift = jax.random.randint(shift_key, genome.shape, -2, 3, jnp.int32)
            return jnp.where(chosen, (genome + shift) % self.num_modules, genome)
        gene_key, value_key = jax.random.split(key)
        gene = jax.random.randint(gene_key, (), 0, genome.size)
        # Another module: old + 1 .. old + M - 1 (mod M); with M = 1 nothing changes.
        offset = jax.random.randint(value_key, (), 1, max(self.num_modules, 2), jnp.int32)
        flat = genome.reshape(-1)
        flat = flat.at[gene].set((flat[gene] + offset) % self.num_modules)
        return flat.reshape(genome.shape)

    def crossover(
        self, key, first: jnp.ndarray, second: jnp.ndarray, kind: str = "layer"
    ) -> jnp.ndarray:
        """Each layer's genes from one parent or the other (uniform over layers)."""
        if kind not in self.crossover_kinds:
            raise ValueError(f"crossover kind must be one of {self.crossover_kinds}, got {kind!r}")
        take_second = jax.random.bernoulli(key, 0.5, (self.num_layers, 1))
        return jnp.where(take_second, second, first)

    def active_modules(self, genome: jnp.ndarray) -> jnp.ndarray:
        """bool ``[L, M]``: the modules a pathway ``[L, N]`` uses (batched: ``[..., L, M]``)."""
        return jnp.any(genome[..., None] == jnp.arange(self.num_modules), axis=-2)

    def host_active_modules(self, genome) -> np.ndarray:
        """``active_modules`` computed with numpy, for host-side records and export."""
        genome = np.asarray(genome)
        return np.any(genome[..., None] == np.arange(self.num_modules), axis=-2)

    def is_valid(self, genome: jnp.ndarray) -> jnp.ndarray:
        return jnp.all((genome >= 0) & (genome < self.num_modules))

    def to_json(self, genome) -> dict:
        """``{'modules': [[...] per layer]}``: the genes exactly."""
        return {"modules": np.asarray(genome).tolist()}

    def from_json(self, genes: dict) -> jnp.ndarray:
        if "modules" not in genes:
            raise ValueError("genome JSON is missing the gene 'modules'")
        try:
            genome = np.asarray(genes["modules"], np.int32)
        except (TypeError, ValueError) as error:
            raise ValueError(f"genome JSON gene 'modules' is not numeric: {error}") from None
        reasons = self.validate(genome)
        if reasons:
            raise ValueError(f"genome JSON gene 'modules': {reasons[0]}")
        return jnp.asarray(genome)

    def fingerprint(self, genome) -> str:
        """The active modules (a module named twice, or genes in another order,
        compute the same pathway)."""
        return hashlib.sha256(self.host_active_modules(genome).tobytes()).hexdigest()

    def spec(self) -> dict:
        return {**dataclasses.asdict(self), "input_shape": list(self.input_shape)}

    def export(self, out_dir, record, params, *, final, data, command=None, formats=None):
        """The chosen pathway (its active modules and the task's readout) as
        standalone Flax and PyTorch code with ``predict.py`` and the task's test
        split (``data``: the task's :class:`~pathways_jax.pathnet.tasks.TaskData`)."""
        del formats
        from pathways_jax.codegen.pathnet_source import export_pathnet_pathway

        genome = self.from_json(record["genome"])
        count = int(np.asarray(data.test_weight > 0).sum())
        note = f"{data.description}; test accuracy {final['test']['accuracy']:.4f}."
        if command:
            note += f"\nProduced by: {command}"
        return export_pathnet_pathway(
            out_dir,
            self,
            genome,
            params,
            test_inputs=np.asarray(data.x_test)[:count],
            test_labels=np.asarray(data.y_test)[:count],
            note=note,
        )

    def validate(self, genome) -> list[str]:
        """Reasons why ``genome`` is not a pathway of this space (empty when it is)."""
        genome = np.asarray(genome)
        if genome.shape != self.genome_shape:
            return [
                f"genome has shape {genome.shape} (expected [L, N] = {list(self.genome_shape)})"
            ]
        if not np.issubdtype(genome.dtype, np.integer):
            return [f"genome has dtype {genome.dtype} (expected integer module indices)"]
        reasons = []
        for layer, row in enumerate(genome):
            bad = [int(v) for v in row if not 0 <= v < self.num_modules]
            if bad:
                reasons.append(
                    f"layer {layer} names modules {bad} (expected indices in [0, {self.num_modules}))"
                )
        return reasons

    def describe(self, genome) -> str:
        """E.g. ``'L0: m1+m4+m7 | L1: m2 | L2: m0+m3 -> readout'`` (active modules)."""
        active = self.host_active_modules(genome)
        layers = [
            f"L{layer}: " + "+".join(f"m{m}" for m in np.flatnonzero(row))
            for layer, row in enumerate(active)
        ]
        return " | ".join(layers) + " -> readout"

    # ------------------------------------------------------------- the network

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return self.input_shape[:-1] if self.module_kind == "conv" else ()

    def layer_input_sizes(self) -> list[int]:
        """Input features (dense) or channels (conv) of each layer's modules."""
        first = math.prod(self.input_shape) if self.module_kind == "dense" else self.input_shape[-1]
        return [first] + [self.units] * (self.num_layers - 1)

    @property
    def readout_inputs(self) -> int:
        return math.prod(self.spatial_shape) * self.units

    def init_modules(self, key) -> list[dict]:
        """Fresh module weights: ``[{'kernel': [M, in, U] | [M, *k, in, U], 'bias': [M, U]}] * L``.

        Kernels are lecun normal with the fan-in of one module (what a plain
        ``nn.Dense``/``nn.Conv`` of the exported pathway would draw); biases zero.
        """
        layers = []
        for key_l, fan_in in zip(
            jax.random.split(key, self.num_layers), self.layer_input_sizes(), strict=True
        ):
            window = (self.kernel_size,) * len(self.spatial_shape)
            shape = (self.num_modules, *window, fan_in, self.units)
            std = 1.0 / math.sqrt(fan_in * math.prod(window))
            layers.append(
                {
                    "kernel": std * jax.random.normal(key_l, shape, jnp.float32),
                    "bias": jnp.zeros((self.num_modules, self.units), jnp.float32),
                }
            )
        return layers

    def init_readout(self, key) -> dict:
        """A fresh readout ``{'kernel': [F, C], 'bias': [C]}`` for a new task."""
        fan_in = self.readout_inputs
        kernel = jax.random.normal(key, (fan_in, self.num_outputs), jnp.float32)
        return {
            "kernel": kernel / math.sqrt(fan_in),
            "bias": jnp.zeros((self.num_outputs,), jnp.float32),
        }

    def init_params(self, key) -> dict:
        """``{'modules': init_modules(...), 'readout': init_readout(...)}``."""
        module_key, readout_key = jax.random.split(key)
        return {"modules": self.init_modules(module_key), "readout": self.init_readout(readout_key)}

    def _layer(self, layer: dict, x: jnp.ndarray) -> jnp.ndarray:
        """Every module of one layer: ``[n, *spatial, in] -> [n, *spatial, M, U]``."""
        kernel = layer["kernel"]
        if self.module_kind == "dense":
            outputs = jnp.einsum("ni,miu->nmu", x, kernel)
        else:
            # A SAME convolution as patches and one matmul ("im2col"), which
            # XLA:CPU runs several times faster than its own convolution here.
            outputs = jnp.einsum(
                "n...p,mpu->n...mu",
                self._patches(x),
                kernel.reshape(self.num_modules, -1, self.units),
            )
        return jax.nn.relu(outputs + layer["bias"])

    def _patches(self, x: jnp.ndarray) -> jnp.ndarray:
        """``[n, *spatial, C] -> [n, *spatial, k**s * C]``: the SAME-padded windows,
        ordered as a kernel ``[*k, C, U]`` flattens."""
        spatial = len(self.spatial_shape)
        half = self.kernel_size // 2
        padded = jnp.pad(x, [(0, 0)] + [(half, half)] * spatial + [(0, 0)])
        windows = [
            padded[
                (
                    slice(None),
                    *(slice(o, o + n) for o, n in zip(offset, self.spatial_shape, strict=True)),
                )
            ]
            for offset in itertools.product(range(self.kernel_size), repeat=spatial)
        ]
        return jnp.concatenate(windows, axis=-1)

    def apply_many(self, params: dict, active: jnp.ndarray, x: jnp.ndarray) -> jnp.ndarray:
        """Logits of ``R`` pathways, each on its own examples, in one pass.

        The ``R * B`` examples go through every module of a layer together (one
        matmul or convolution); each example then sums (or averages) the
        outputs of its own pathway's active modules.

        Args:
          params: ``init_params`` output (modules and a readout).
          active: bool/float ``[R, L, M]``, ``active_modules(genomes)``.
          x: float32 ``[R, B, *input_shape]``.

        Returns:
          float32 ``[R, B, num_outputs]``.
        """
        num_pathways, batch = x.shape[:2]
        x = x.reshape(num_pathways * batch, *x.shape[2:])
        if self.module_kind == "dense":
            x = x.reshape(x.shape[0], -1)
        active = active.astype(jnp.float32)
        for index, layer in enumerate(params["modules"]):
            weights = active[:, index]  # [R, M]
            if self.aggregation == "mean":
                weights = weights / jnp.maximum(weights.sum(-1, keepdims=True), 1.0)
            outputs = self._layer(layer, x)
            outputs = outputs.reshape(num_pathways, batch, *outputs.shape[1:])
            x = jnp.einsum("rb...mu,rm->rb...u", outputs, weights)
            x = x.reshape(num_pathways * batch, *x.shape[2:])
        x = x.reshape(num_pathways, batch, -1)
        return x @ params["readout"]["kernel"] + params["readout"]["bias"]

    def apply(self, params: dict, active: jnp.ndarray, x: jnp.ndarray) -> jnp.ndarray:
        """Logits ``[B, num_outputs]`` of one pathway (``active`` ``[L, M]``) on ``x`` ``[B, ...]``."""
        return self.apply_many(params, active[None], x[None])[0]

    def pathway_params(self, params: dict, genome) -> dict:
        """The weights a pathway uses, named as in its exported module.

        Returns:
          ``{'layer{l}_module{m}': {'kernel', 'bias'}, ..., 'readout': {...}}`` as
          numpy arrays, for the active modules only.
        """
        active = self.host_active_modules(genome)
        named = {}
        for layer, (weights, row) in enumerate(zip(params["modules"], active, strict=True)):
            for module in np.flatnonzero(row):
                named[f"layer{layer}_module{module}"] = {
                    "kernel": np.asarray(weights["kernel"][module]),
                    "bias": np.asarray(weights["bias"][module]),
                }
        named["readout"] = {name: np.asarray(v) for name, v in params["readout"].items()}
        return named

    def to_source(self, genome, params: dict | None = None, target: str = "flax") -> str:
        """Standalone Flax or PyTorch source of one pathway (its active modules only).

        ``params`` is accepted for the space protocol; the source does not embed
        weights (``pathway_params`` names them for ``params.msgpack``/``weights.pt``).
        """
        del params
        from pathways_jax.codegen import pathnet_source

        return pathnet_source.pathway_source(self, genome, target)
