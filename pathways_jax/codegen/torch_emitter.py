"""Emit a pathway as one standalone PyTorch module (source text).

Layers have the names of the Flax export (``block0_conv``, ``block1_norm``,
``head``), so :func:`~pathways_jax.codegen.weights.torch_state_dict` maps one
set of weights onto the other. Inputs are channels-last, as in the Flax
export; convolutions and pooling run channels-first (torch's layout) and the
state is moved back to channels-last before it is flattened, so dense
kernels keep the Flax row order.
"""

from __future__ import annotations

from pathways_jax.codegen import attention_source
from pathways_jax.codegen.recipe import Recipe
from pathways_jax.codegen.source_text import call_lines, module_constants, shape_text

LAYER_NORM_EPSILON = "1e-6"

_ACTIVATIONS = {
    "relu": "torch.relu({x})",
    "gelu": "F.gelu({x})",
    "tanh": "torch.tanh({x})",
    "sigmoid": "torch.sigmoid({x})",
    "swish": "F.silu({x})",
    "squared_relu": "torch.square(torch.relu({x}))",
}

_LOSSES = {
    "xent": ["return F.cross_entropy(logits, labels)"],
    "xent_smooth": ["return F.cross_entropy(logits, labels, label_smoothing=LABEL_SMOOTHING)"],
    "hinge": [
        "one_hot = F.one_hot(labels, NUM_OUTPUTS).to(logits.dtype)",
        "margins = (logits + 1.0 - one_hot).amax(dim=-1) - (logits * one_hot).sum(dim=-1)",
        "return margins.mean()",
    ],
    "mse": ["return F.mse_loss(outputs[:, 0], targets)"],
    "huber": ["return F.huber_loss(outputs[:, 0], targets, delta=HUBER_DELTA)"],
}

_OPTIMIZERS = {
    "sgd": ("torch.optim.SGD", []),
    "momentum": ("torch.optim.SGD", ["momentum=0.9"]),
    "adam": ("torch.optim.Adam", ["betas=(0.9, 0.999)", "eps=1e-8"]),
    "adamw": ("torch.optim.AdamW", ["betas=(0.9, 0.999)", "eps=1e-8"]),
    "rmsprop": ("torch.optim.RMSprop", ["alpha=0.9", "eps=1e-8"]),
}


def _spatial_dims(shape: tuple[int, ...]) -> int:
    return len(shape) - 1


def _init_lines(recipe: Recipe) -> list[str]:
    """Layer definitions of ``__init__`` (indented 8 spaces)."""
    lines = []
    for block in recipe.blocks:
        name = f"block{block['index']}"
        in_shape, out_shape = block["in_shape"], block["out_shape"]
        if block["op"] in attention_source.OPERATIONS:
            lines += attention_source.torch_init_lines(block, name)
        elif block["op"] == "dense":
            features = 1
            for n in in_shape:
                features *= n
            lines.append(f"        self.{name}_dense = nn.Linear({features}, {block['width']})")
        elif block["op"] == "conv":
            conv = f"nn.Conv{_spatial_dims(in_shape)}d"
            lines += call_lines(
                8,
                f"self.{name}_conv = {conv}(",
                [
                    str(in_shape[-1]),
                    str(block["width"]),
                    f"kernel_size={block['kernel']}",
                    f"padding={block['kernel'] // 2}",
                ],
            )
        if block["norm"] == "layer_norm":
            size = in_shape[-1] if block["norm_first"] else out_shape[-1]
            lines.append(
                f"        self.{name}_norm = nn.LayerNorm({size}, eps={LAYER_NORM_EPSILON})"
            )
        if block["dropout"] > 0:
            lines.append(f"        self.{name}_dropout = nn.Dropout({block['dropout']:g})")
    features = 1
    for n in recipe.output_shape:
        features *= n
    lines.append(f"        self.head = nn.Linear({features}, NUM_OUTPUTS)")
    return lines


def _forward_lines(recipe: Recipe) -> list[str]:
    """Body of ``forward`` (indented 8 spaces); tracks the channel layout."""
    lines = []
    if recipe.input_mask is not None:
        lines.append("        x = x * torch.tensor(INPUT_MASK, dtype=x.dtype, device=x.device)")
    channels_first = False
    for block in recipe.blocks:
        name = f"block{block['index']}"
        in_shape, out_shape = block["in_shape"], block["out_shape"]
        target = "y" if block["residual"] else "x"
        lines.append(f"        # {name}: {shape_text(in_shape)} -> {shape_text(out_shape)}")
        op = block["op"]
        if op in attention_source.OPERATIONS:
            # Channels-last, except a patch embedding (a strided convolution).
            wants_first = op == "patch_embedding"
            if channels_first != wants_first:
                move = "(-1, 1)" if wants_first else "(1, -1)"
                lines.append(f"        x = x.movedim{move}")
                channels_first = wants_first
            lines += attention_source.torch_forward_lines(block, name, target, _ACTIVATIONS)
        elif op == "dense":
            if channels_first:
                lines.append("        x = x.movedim(1, -1)  # channels-last, the Flax row order")
                channels_first = False
            if len(in_shape) > 1:
                lines.append("        x = x.flatten(1)")
            lines.append(f"        {target} = self.{name}_dense(x)")
        else:
            if not channels_first:
                lines.append("        x = x.movedim(-1, 1)  # channels-first, torch's layout")
                channels_first = True
            if op == "conv":
                lines.append(f"        {target} = self.{name}_conv(x)")
            else:
                pool = f"F.{op}{_spatial_dims(in_shape)}d"
                lines.append(f"        {target} = {pool}(x, 2)")
        spatial_output = len(out_shape) > 1 and channels_first
        if block["norm"] == "layer_norm" and not block["norm_first"]:
            if spatial_output:
                lines.append(
                    f"        {target} = self.{name}_norm({target}.movedim(1, -1)).movedim(-1, 1)"
                )
            else:
                lines.append(f"        {target} = self.{name}_norm({target})")
        if block["activation"] != "identity":
            lines.append(
                f"        {target} = " + _ACTIVATIONS[block["activation"]].format(x=target)
            )
        if block["dropout"] > 0:
            lines.append(f"        {target} = self.{name}_dropout({target})")
        if block["residual"]:
            lines.append("        x = x + y")
    if channels_first:
        lines.append("        x = x.movedim(1, -1)  # channels-last, the Flax row order")
    if len(recipe.output_shape) > 1:
        lines.append("        x = x.flatten(1)")
    lines.append("        return self.head(x)")
    return lines


def _schedule_lines(recipe: Recipe) -> list[str]:
    """``learning_rate_factor(step)``: the schedule as a multiple of LEARNING_RATE."""
    lines = [
        "def learning_rate_factor(step: int) -> float:",
    ]
    if recipe.schedule == "constant":
        lines += ['    """A constant learning rate."""', "    return 1.0"]
    elif recipe.schedule == "cosine":
        lines += [
            '    """Cosine decay from LEARNING_RATE to 0 over TRAIN_STEPS."""',
            "    progress = min(step, TRAIN_STEPS) / TRAIN_STEPS",
            "    return 0.5 * (1.0 + math.cos(math.pi * progress))",
        ]
    else:
        lines += [
            '    """Linear warm-up over WARMUP_STEPS, then cosine decay to 0 at TRAIN_STEPS."""',
            "    if step < WARMUP_STEPS:",
            "        return step / WARMUP_STEPS",
            "    decay_steps = TRAIN_STEPS - WARMUP_STEPS",
            "    progress = min(step - WARMUP_STEPS, decay_steps) / decay_steps",
            "    return 0.5 * (1.0 + math.cos(math.pi * progress))",
        ]
    return lines


def torch_source(recipe: Recipe, header: str) -> str:
    """The PyTorch module of ``recipe`` as source text.

    Args:
      recipe: from :func:`~pathways_jax.codegen.recipe.decode_recipe`.
      header: the module docstring's text.
    """
    regression = recipe.task == "regression"
    targets = "targets" if regression else "labels"
    outputs = "outputs" if regression else "logits"
    shape = "[batch, " + ", ".join(str(n) for n in recipe.input_shape) + "]"
    uses_math = recipe.schedule != "constant" or any(
        block["op"] == "self_attention" for block in recipe.blocks
    )
    constants = module_constants(recipe)

    optimizer_class, options = _OPTIMIZERS[recipe.optimizer]
    options = ["model.parameters()", "lr=LEARNING_RATE", *options]
    if recipe.weight_decay > 0:
        options.append("weight_decay=WEIGHT_DECAY")
    elif recipe.optimizer == "adamw":
        options.append("weight_decay=0.0")

    objective = [f"    {outputs} = model(inputs)"]
    loss_body = [f"    {line}" for line in _LOSSES[recipe.loss]]
    if recipe.l1_penalty > 0:
        loss_body[-1] = loss_body[-1].replace("return ", "data_loss = ", 1)
        loss_body.append("    return data_loss + L1_PENALTY * l1_norm(model)")
    lines = ['"""' + header.rstrip(), '"""', ""]
    if uses_math:
        lines += ["import math", ""]
    lines += [
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "from torch.nn import functional as F",
        "",
        *constants,
        "",
        "",
        *attention_source.torch_helpers(recipe),
        "class Pathway(nn.Module):",
        '    """The evolved network, with only its chosen blocks."""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
        *_init_lines(recipe),
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        f'        """{shape} (channels last) -> [batch, NUM_OUTPUTS]."""',
        *_forward_lines(recipe),
        "",
        "",
        *_schedule_lines(recipe),
        "",
        "",
        "def make_optimizer(model: nn.Module):",
        '    """The optimizer and learning-rate schedule of the training genes."""',
        *call_lines(4, f"optimizer = {optimizer_class}(", options),
        "    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, learning_rate_factor)",
        "    return optimizer, schedule",
        "",
        "",
    ]
    if recipe.l1_penalty > 0:
        lines += [
            "def l1_norm(model: nn.Module) -> torch.Tensor:",
            '    """Sum of the absolute values of every weight matrix and kernel."""',
            "    kernels = (",
            "        module.weight",
            "        for module in model.modules()",
            "        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d))",
            "    )",
            "    return sum(kernel.abs().sum() for kernel in kernels)",
            "",
            "",
        ]
    lines += [
        "def loss_fn(",
        "    model: nn.Module,",
        "    inputs: torch.Tensor,",
        f"    {targets}: torch.Tensor,",
        ") -> torch.Tensor:",
        f'    """The training loss of a batch; {targets} {"float" if regression else "int64"} [batch]."""',
        *objective,
        *loss_body,
        "",
        "",
        "def train_step(model, optimizer, schedule, inputs, " + targets + ") -> float:",
        '    """One optimisation step on a batch; returns the loss."""',
        "    model.train()",
        "    optimizer.zero_grad()",
        f"    loss = loss_fn(model, inputs, {targets})",
        "    loss.backward()",
        "    optimizer.step()",
        "    schedule.step()",
        "    return loss.item()",
        "",
        "",
        "@torch.no_grad()",
        "def predict(model: nn.Module, inputs: np.ndarray) -> np.ndarray:",
        f'    """The {"predictions" if regression else "logits"} [batch, NUM_OUTPUTS] of inputs {shape}."""',
        "    model.eval()",
        "    return model(torch.as_tensor(inputs, dtype=torch.float32)).numpy()",
        "",
        "",
        'def load_model(path: str = "weights.pt") -> Pathway:',
        '    """The network with the trained weights saved beside this file."""',
        "    model = Pathway()",
        "    model.load_state_dict(torch.load(path, weights_only=True))",
        "    return model.eval()",
        "",
    ]
    return "\n".join(lines)
