"""Emit a pathway as one standalone Flax module (source text).

The module holds only the chosen blocks as named Flax layers (``block0_conv``,
``block1_norm``, ..., ``head``), the optax chain of its training genes
(``make_optimizer``), ``loss_fn``, ``train_step``, ``predict`` and
``load_params``. It imports jax, flax, optax and numpy only. Its parameter
names are those of :class:`~pathways_jax.codegen.plain_network.PlainNetwork`,
so :func:`~pathways_jax.codegen.plain_network.plain_params_from_supernet`
gives its weights.
"""

from __future__ import annotations

from pathways_jax.codegen import attention_source
from pathways_jax.codegen.recipe import Recipe
from pathways_jax.codegen.source_text import (
    call_lines,
    module_constants,
    shape_text,
    tuple_literal,
)

LAYER_NORM_EPSILON = "1e-6"

_ACTIVATIONS = {
    "relu": "nn.relu({x})",
    "gelu": "nn.gelu({x}, approximate=False)",
    "tanh": "jnp.tanh({x})",
    "sigmoid": "nn.sigmoid({x})",
    "swish": "nn.swish({x})",
    "squared_relu": "jnp.square(nn.relu({x}))",
}

_LOSSES = {
    "xent": "optax.softmax_cross_entropy_with_integer_labels(logits, labels)",
    "xent_smooth": (
        "optax.softmax_cross_entropy(\n"
        "        logits,\n"
        "        optax.smooth_labels(jax.nn.one_hot(labels, NUM_OUTPUTS), LABEL_SMOOTHING),\n"
        "    )"
    ),
    "hinge": "optax.losses.multiclass_hinge_loss(logits, labels)",
    "mse": "optax.squared_error(outputs[:, 0], targets)",
    "huber": "optax.huber_loss(outputs[:, 0], targets, delta=HUBER_DELTA)",
}

_LOSS_DOC = {
    "xent": "softmax cross-entropy",
    "xent_smooth": "softmax cross-entropy with label smoothing",
    "hinge": "multi-class hinge loss",
    "mse": "squared error",
    "huber": "Huber loss",
}


def _block_lines(recipe: Recipe, block: dict) -> list[str]:
    """Lines of ``Pathway.__call__`` for one block (indented 8 spaces)."""
    name = f"block{block['index']}"
    target = "y" if block["residual"] else "x"
    lines = [
        f"        # {name}: {shape_text(block['in_shape'])} -> {shape_text(block['out_shape'])}"
    ]
    op = block["op"]
    source = "x"
    if op in attention_source.OPERATIONS:
        lines += attention_source.flax_block_lines(block, name, target, _ACTIVATIONS)
    elif op == "dense":
        if len(block["in_shape"]) > 1:
            lines.append("        x = x.reshape(x.shape[0], -1)")
        lines.append(
            f'        {target} = nn.Dense({block["width"]}, name="{name}_dense")({source})'
        )
    elif op == "conv":
        spatial = len(block["in_shape"]) - 1
        kernel = tuple_literal([block["kernel"]] * spatial)
        lines.append(
            f'        {target} = nn.Conv({block["width"]}, {kernel}, padding="SAME", '
            f'name="{name}_conv")({source})'
        )
    else:
        spatial = len(block["in_shape"]) - 1
        window = tuple_literal([2] * spatial)
        lines.append(f"        {target} = nn.{op}({source}, {window}, strides={window})")
    if block["norm"] == "layer_norm" and not block["norm_first"]:
        lines.append(
            f"        {target} = nn.LayerNorm(epsilon={LAYER_NORM_EPSILON}, "
            f'name="{name}_norm")({target})'
        )
    if block["activation"] != "identity":
        lines.append(f"        {target} = " + _ACTIVATIONS[block["activation"]].format(x=target))
    if block["dropout"] > 0:
        lines.append(
            f"        {target} = nn.Dropout({block['dropout']:g}, deterministic=not train)({target})"
        )
    if block["residual"]:
        lines.append("        x = x + y")
    return lines


def _optimizer_lines(recipe: Recipe) -> list[str]:
    """Body of ``make_optimizer``: the optax chain of the training genes."""
    if recipe.schedule == "constant":
        schedule = "LEARNING_RATE"
        lines = []
    elif recipe.schedule == "cosine":
        schedule = "schedule"
        lines = ["    schedule = optax.cosine_decay_schedule(LEARNING_RATE, TRAIN_STEPS)"]
    else:
        schedule = "schedule"
        lines = [
            "    schedule = optax.warmup_cosine_decay_schedule(",
            "        0.0, LEARNING_RATE, WARMUP_STEPS, TRAIN_STEPS",
            "    )",
        ]
    decay = recipe.weight_decay > 0
    transforms = []
    if decay and recipe.optimizer != "adamw":
        transforms.append("optax.add_decayed_weights(WEIGHT_DECAY)")
    transforms.append(
        {
            "sgd": None,
            "momentum": "optax.trace(decay=0.9)",
            "adam": "optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-8)",
            "adamw": "optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-8)",
            "rmsprop": "optax.scale_by_rms(decay=0.9, eps=1e-8)",
        }[recipe.optimizer]
    )
    if decay and recipe.optimizer == "adamw":
        transforms.append("optax.add_decayed_weights(WEIGHT_DECAY)")
    transforms.append(f"optax.scale_by_learning_rate({schedule})")
    transforms = [t for t in transforms if t]
    lines.append("    return optax.chain(")
    lines.extend(f"        {t}," for t in transforms)
    lines.append("    )")
    return lines


def _optimizer_doc(recipe: Recipe) -> str:
    names = {
        "sgd": "SGD",
        "momentum": "SGD with momentum 0.9",
        "adam": "Adam",
        "adamw": "AdamW (decoupled weight decay)",
        "rmsprop": "RMSProp",
    }
    schedules = {
        "constant": "a constant learning rate",
        "cosine": "a cosine decay over TRAIN_STEPS",
        "warmup_cosine": "a linear warm-up over WARMUP_STEPS, then cosine decay",
    }
    text = f"{names[recipe.optimizer]} with {schedules[recipe.schedule]}"
    if recipe.weight_decay > 0 and recipe.optimizer != "adamw":
        text += " and L2 weight decay added to the gradient"
    return text + "."


def _module_lines(recipe: Recipe) -> list[str]:
    """The ``Pathway`` module class."""
    shape = "[batch, " + ", ".join(str(n) for n in recipe.input_shape) + "]"
    if recipe.has_dropout:
        signature = "    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:"
        doc = [
            f'        """{shape} -> [batch, NUM_OUTPUTS].',
            "",
            "        ``train=True`` applies dropout: pass ``rngs={'dropout': key}``.",
            '        """',
        ]
    else:
        signature = "    def __call__(self, x: jax.Array) -> jax.Array:"
        doc = [f'        """{shape} -> [batch, NUM_OUTPUTS]."""']
    lines = [
        "class Pathway(nn.Module):",
        '    """The evolved network, with only its chosen blocks."""',
        "",
        "    @nn.compact",
        signature,
        *doc,
        "        x = x.astype(jnp.float32)",
    ]
    if recipe.input_mask is not None:
        lines.append("        x = x * jnp.asarray(INPUT_MASK, jnp.float32)")
    for block in recipe.blocks:
        lines.extend(_block_lines(recipe, block))
    if len(recipe.output_shape) > 1:
        lines.append("        x = x.reshape(x.shape[0], -1)")
    lines.append('        return nn.Dense(NUM_OUTPUTS, name="head")(x)')
    return lines


def _training_lines(recipe: Recipe) -> list[str]:
    """``make_optimizer``, ``l1_norm``, ``loss_fn``, ``train_step``, ``init_params``."""
    regression = recipe.task == "regression"
    dropout = recipe.has_dropout
    targets = "targets" if regression else "labels"
    outputs = "outputs" if regression else "logits"
    key_parameter = ["    dropout_key: jax.Array,"] if dropout else []
    objective = "jnp.mean(losses)"
    lines = [
        "def make_optimizer() -> optax.GradientTransformation:",
        f'    """{_optimizer_doc(recipe)}"""',
        *_optimizer_lines(recipe),
        "",
        "",
    ]
    if recipe.l1_penalty > 0:
        objective += " + L1_PENALTY * l1_norm(params)"
        lines += [
            "def l1_norm(params: dict) -> jax.Array:",
            '    """Sum of the absolute values of every kernel."""',
            '    kernels = [layer["kernel"] for layer in params.values() if "kernel" in layer]',
            "    return sum(jnp.sum(jnp.abs(kernel)) for kernel in kernels)",
            "",
            "",
        ]
    if dropout:
        apply = call_lines(
            4,
            f"{outputs} = Pathway().apply(",
            ['{"params": params}', "inputs", "train=True", 'rngs={"dropout": dropout_key}'],
        )
    else:
        apply = [f'    {outputs} = Pathway().apply({{"params": params}}, inputs)']
    target_doc = "float [batch]" if regression else "int [batch]"
    lines += [
        "def loss_fn(",
        "    params: dict,",
        "    inputs: jax.Array,",
        f"    {targets}: jax.Array,",
        *key_parameter,
        ") -> jax.Array:",
        f'    """Mean {_LOSS_DOC[recipe.loss]} over a batch; {targets} {target_doc}."""',
        *apply,
        f"    losses = {_LOSSES[recipe.loss]}",
        f"    return {objective}",
        "",
        "",
        "@jax.jit",
        "def train_step(",
        "    params: dict,",
        "    opt_state: optax.OptState,",
        "    inputs: jax.Array,",
        f"    {targets}: jax.Array,",
        *key_parameter,
        "):",
        '    """One optimisation step on a batch: returns ``(params, opt_state, loss)``."""',
        *call_lines(
            4,
            "loss, grads = jax.value_and_grad(loss_fn)(",
            ["params", "inputs", targets] + (["dropout_key"] if dropout else []),
        ),
        "    updates, opt_state = make_optimizer().update(grads, opt_state, params)",
        "    return optax.apply_updates(params, updates), opt_state, loss",
        "",
        "",
        "def init_params(key: jax.Array) -> dict:",
        '    """Freshly initialised parameters, to train from scratch."""',
        "    inputs = jnp.zeros((1, *INPUT_SHAPE), jnp.float32)",
        '    return Pathway().init(key, inputs)["params"]',
    ]
    return lines


def flax_source(recipe: Recipe, header: str) -> str:
    """The Flax module of ``recipe`` as source text.

    Args:
      recipe: from :func:`~pathways_jax.codegen.recipe.decode_recipe`.
      header: the module docstring's text (description, metrics, provenance).
    """
    kind = "predictions" if recipe.task == "regression" else "logits"
    lines = [
        '"""' + header.rstrip(),
        '"""',
        "",
        "import flax.linen as nn",
        "import jax",
        "import jax.numpy as jnp",
        "import numpy as np",
        "import optax",
        "from flax import serialization",
        "",
        *module_constants(recipe),
        "",
        "",
        *attention_source.flax_helpers(recipe),
        *_module_lines(recipe),
        "",
        "",
        *_training_lines(recipe),
        "",
        "",
        *predict_and_load_lines(kind),
    ]
    return "\n".join(lines)


def predict_and_load_lines(kind: str = "logits") -> list[str]:
    """``predict`` and ``load_params`` of an exported Flax module named ``Pathway``."""
    return [
        "@jax.jit",
        "def predict(params: dict, inputs: jax.Array) -> jax.Array:",
        f'    """The {kind} [batch, NUM_OUTPUTS] of a batch of inputs."""',
        '    return Pathway().apply({"params": params}, inputs)',
        "",
        "",
        'def load_params(path: str = "params.msgpack") -> dict:',
        '    """The trained parameters saved beside this file."""',
        '    with open(path, "rb") as file:',
        "        restored = serialization.msgpack_restore(file.read())",
        '    return jax.tree_util.tree_map(np.asarray, restored["params"])',
        "",
    ]
