"""A PathNet pathway as standalone Flax and PyTorch source, and its export.

The exported module holds only the pathway's active modules, as named layers
``layer{l}_module{m}`` (``nn.Dense``/``nn.Conv`` in Flax, ``nn.Linear``/
``nn.Conv1d``/``nn.Conv2d`` in PyTorch) and the task's ``readout``; a layer's
output is the sum (or mean) of its modules' ReLU outputs, as in the
super-network. ``PathNetSpace.pathway_params`` gives the weights under those
names, so :mod:`~pathways_jax.codegen.weights` writes them for either framework.
"""

from __future__ import annotations

import json
import os

import numpy as np

from pathways_jax.codegen import flax_emitter, weights
from pathways_jax.codegen.export import (
    DIAGRAM_FILE,
    FLAX_MODULE,
    FLAX_PARAMS,
    PREDICT_FILE,
    PREPROCESSING_FILE,
    TEST_SPLIT_FILE,
    TORCH_MODULE,
    TORCH_WEIGHTS,
    torch_available,
)
from pathways_jax.codegen.predict_script import PREDICT_SCRIPT
from pathways_jax.codegen.source_text import indent
from pathways_jax.codegen.sources import TARGETS
from pathways_jax.spaces.pathnet import PathNetSpace


def active_layers(space: PathNetSpace, genome) -> tuple[tuple[int, ...], ...]:
    """The active module indices of each layer, e.g. ``((1, 4, 7), (2,), (0, 3))``."""
    active = space.host_active_modules(genome)
    return tuple(tuple(int(m) for m in np.flatnonzero(row)) for row in active)


def _header(space: PathNetSpace, genome, framework: str, note: str) -> list[str]:
    kind = (
        f"dense, {space.units} ReLU units"
        if space.module_kind == "dense"
        else f"{len(space.spatial_shape)}-D convolution, {space.units} channels, "
        f"kernel {space.kernel_size}, SAME, ReLU"
    )
    lines = [
        f'"""A PathNet pathway as a standalone {framework} module.',
        "",
        indent(space.describe(genome)),
        "",
        f"Modules: {kind}; a layer's output is the {space.aggregation} of its modules.",
    ]
    if note:
        lines += ["", note]
    lines += ['"""', ""]
    return lines


def _constants(space: PathNetSpace, genome) -> list[str]:
    return [
        f"INPUT_SHAPE = {tuple(space.input_shape)!r}",
        f"NUM_OUTPUTS = {space.num_outputs}",
        f"UNITS = {space.units}",
        f"KERNEL_SIZE = {space.kernel_size}",
        "# Active modules of each layer.",
        f"LAYERS = {active_layers(space, genome)!r}",
    ]


def _aggregate(space: PathNetSpace, expression: str) -> str:
    total = f"sum({expression})"
    return f"{total} / len(modules)" if space.aggregation == "mean" else total


def flax_source(space: PathNetSpace, genome, note: str = "") -> str:
    """The Flax module of one pathway (``Pathway``, ``predict``, ``load_params``)."""
    spatial = len(space.spatial_shape)
    if space.module_kind == "dense":
        flatten = ["        x = x.reshape(x.shape[0], -1)"]
        layer = 'nn.Dense(UNITS, name=f"layer{layer}_module{m}")(x)'
    else:
        flatten = []
        window = "(KERNEL_SIZE,)" if spatial == 1 else "(KERNEL_SIZE, KERNEL_SIZE)"
        layer = f'nn.Conv(UNITS, {window}, padding="SAME", name=f"layer{{layer}}_module{{m}}")(x)'
    lines = [
        *_header(space, genome, "Flax", note),
        "import flax.linen as nn",
        "import jax",
        "import numpy as np",
        "from flax import serialization",
        "",
        *_constants(space, genome),
        "",
        "",
        "class Pathway(nn.Module):",
        '    """Logits [batch, NUM_OUTPUTS] of inputs [batch, *INPUT_SHAPE]."""',
        "",
        "    @nn.compact",
        "    def __call__(self, x):",
        *flatten,
        "        for layer, modules in enumerate(LAYERS):",
        f"            x = {_aggregate(space, f'nn.relu({layer}) for m in modules')}",
        "        x = x.reshape(x.shape[0], -1)",
        '        return nn.Dense(NUM_OUTPUTS, name="readout")(x)',
        "",
        "",
        *flax_emitter.predict_and_load_lines(),
    ]
    return "\n".join(lines)


def torch_source(space: PathNetSpace, genome, note: str = "") -> str:
    """The PyTorch module of one pathway (``Pathway``, ``predict``, ``load_model``)."""
    spatial = len(space.spatial_shape)
    sizes = space.layer_input_sizes()
    if space.module_kind == "dense":
        make = "nn.Linear(size, UNITS)"
        to_torch = ["        x = x.reshape(x.shape[0], -1)"]
        from_torch = []
    else:
        conv = "nn.Conv1d" if spatial == 1 else "nn.Conv2d"
        make = f'{conv}(size, UNITS, KERNEL_SIZE, padding="same")'
        order = "0, 2, 1" if spatial == 1 else "0, 3, 1, 2"
        back = "0, 2, 1" if spatial == 1 else "0, 2, 3, 1"
        to_torch = [f"        x = x.permute({order})  # channels first"]
        from_torch = [f"        x = x.permute({back})  # channels last, as the Flax module"]
    lines = [
        *_header(space, genome, "PyTorch", note),
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "",
        *_constants(space, genome),
        f"LAYER_INPUTS = {tuple(sizes)!r}",
        f"READOUT_INPUTS = {space.readout_inputs}",
        "",
        "",
        "class Pathway(nn.Module):",
        '    """Logits [batch, NUM_OUTPUTS] of inputs [batch, *INPUT_SHAPE]."""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
        "        for layer, (modules, size) in enumerate(zip(LAYERS, LAYER_INPUTS)):",
        "            for m in modules:",
        f'                self.add_module(f"layer{{layer}}_module{{m}}", {make})',
        "        self.readout = nn.Linear(READOUT_INPUTS, NUM_OUTPUTS)",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *to_torch,
        "        for layer, modules in enumerate(LAYERS):",
        "            x = "
        + _aggregate(
            space, 'torch.relu(getattr(self, f"layer{layer}_module{m}")(x)) for m in modules'
        ),
        *from_torch,
        "        return self.readout(x.reshape(x.shape[0], -1))",
        "",
        "",
        "def predict(model: nn.Module, inputs: np.ndarray) -> np.ndarray:",
        '    """The logits [batch, NUM_OUTPUTS] of a batch of inputs."""',
        "    with torch.no_grad():",
        "        return model(torch.from_numpy(np.array(inputs, np.float32))).numpy()",
        "",
        "",
        'def load_model(path: str = "weights.pt") -> nn.Module:',
        '    """The pathway with the trained weights saved beside this file."""',
        "    model = Pathway()",
        "    model.load_state_dict(torch.load(path, weights_only=True))",
        "    return model.eval()",
        "",
    ]
    return "\n".join(lines)


def pathway_source(space: PathNetSpace, genome, target: str = "flax", note: str = "") -> str:
    """``flax_source`` or ``torch_source`` by ``target``."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    reasons = space.validate(genome)
    if reasons:
        raise ValueError(f"not a pathway of this PathNet: {reasons[0]}")
    return (flax_source if target == "flax" else torch_source)(space, genome, note)


def export_pathnet_pathway(
    out_dir: str,
    space: PathNetSpace,
    genome,
    params: dict,
    *,
    test_inputs: np.ndarray,
    test_labels: np.ndarray,
    note: str = "",
) -> list[str]:
    """Writes one pathway of a PathNet as code a user runs without us.

    Files: ``model.py`` + ``params.msgpack`` (Flax), ``model_torch.py`` +
    ``weights.pt`` (PyTorch, when installed), ``predict.py``,
    ``preprocessing.json``, ``pathway.txt`` and ``test_split.npz`` (the task's
    test examples as the model sees them, labels 0/1).

    Args:
      params: the super-network's weights (``init_params`` layout) with the
        task's readout.
      test_inputs, test_labels: ``[n, *input_shape]`` and ``[n]``.
      note: a line for the module docstrings (task, accuracy, command).

    Returns:
      The paths written.
    """
    variables = {"params": space.pathway_params(params, genome)}
    os.makedirs(out_dir, exist_ok=True)
    written = []

    def write(name: str, content) -> str:
        path = os.path.join(out_dir, name)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as file:
            file.write(content)
        written.append(path)
        return path

    write(FLAX_MODULE, flax_source(space, genome, note))
    write(FLAX_PARAMS, weights.flax_params_bytes(variables))
    if torch_available():
        write(TORCH_MODULE, torch_source(space, genome, note))
        path = os.path.join(out_dir, TORCH_WEIGHTS)
        weights.write_torch_state_dict(path, weights.torch_state_dict(variables))
        written.append(path)
    write(PREDICT_FILE, PREDICT_SCRIPT)
    preprocessing = {
        "task": "classification",
        "input_shape": list(space.input_shape),
        "num_outputs": space.num_outputs,
        "input_mean": None,
        "input_std": None,
        "target_mean": 0.0,
        "target_std": 1.0,
    }
    write(PREPROCESSING_FILE, json.dumps(preprocessing, indent=2) + "\n")
    write(DIAGRAM_FILE, space.describe(genome) + "\n")
    path = os.path.join(out_dir, TEST_SPLIT_FILE)
    np.savez(path, x=np.asarray(test_inputs, np.float32), y=np.asarray(test_labels, np.int64))
    written.append(path)
    return written
