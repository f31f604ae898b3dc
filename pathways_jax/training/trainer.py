"""Training and evaluating one candidate, written for ``vmap`` over a population.

The whole training loop runs inside the compiled program (``lax.scan`` over
steps). Every candidate draws its own minibatches and dropout masks from its
own key; a batch-size gene ``b`` uses the first ``b`` rows of a
``max(batch_sizes)`` batch, so all candidates share one shape.
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.pathway import network as pathway_network
from pathways_jax.spaces.pathway import shape_classes
from pathways_jax.spaces.pathway.genome import PathwayGenome
from pathways_jax.spaces.pathway.space import PathwaySpace
from pathways_jax.spaces.switch import switch
from pathways_jax.training import losses, optimizers


@flax.struct.dataclass
class EvalSet:
    """Examples padded to a whole number of chunks.

    Attributes:
      inputs: ``[num_chunks, chunk, *input_shape]`` float32.
      targets: ``[num_chunks, chunk]`` int32 or float32.
      mask: ``[num_chunks, chunk]`` float32, 1 for real examples.
    """

    inputs: jnp.ndarray
    targets: jnp.ndarray
    mask: jnp.ndarray


def make_eval_set(inputs: np.ndarray, targets: np.ndarray, chunk: int) -> EvalSet:
    """Pad ``inputs [n, ...]`` and ``targets [n]`` into chunks of ``chunk`` examples."""
    count = inputs.shape[0]
    chunk = max(1, min(chunk, count))
    num_chunks = -(-count // chunk)
    pad = num_chunks * chunk - count
    padded_inputs = np.concatenate([inputs, np.zeros((pad, *inputs.shape[1:]), inputs.dtype)])
    padded_targets = np.concatenate([targets, np.zeros((pad,), targets.dtype)])
    mask = np.concatenate([np.ones(count, np.float32), np.zeros(pad, np.float32)])
    return EvalSet(
        inputs=padded_inputs.reshape(num_chunks, chunk, *inputs.shape[1:]),
        targets=padded_targets.reshape(num_chunks, chunk),
        mask=mask.reshape(num_chunks, chunk),
    )


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Static settings of the training program (hashable).

    Attributes:
      steps: optimisation steps per candidate (per call).
      loss_window: the reported training loss is the mean over this many last steps.
      schedule_steps: the length the learning-rate schedule spans (``steps``
        when 0); longer when training continues over several calls, as in
        population-based training.
    """

    steps: int
    loss_window: int = 10
    schedule_steps: int = 0


def _l1_norm(params) -> jnp.ndarray:
    kernels = [
        params["head"]["kernel"],
        params["flatten"]["kernel"],
        params["blocks"]["dense_kernel"],
        params["blocks"]["conv_kernel"],
    ]
    # The attention spaces' projections are kernels too (not the positions).
    for name in ("attention_kernel", "mlp_in_kernel", "mlp_out_kernel", "patch_kernel"):
        if name in params["blocks"]:
            kernels.append(params["blocks"][name])
    return sum(jnp.sum(jnp.abs(k)) for k in kernels)


def evaluate_params(space: PathwaySpace, genome: PathwayGenome, params, eval_set: EvalSet):
    """Metrics of trained ``params`` on an :class:`EvalSet` (dict of float32 scalars)."""

    def chunk_sums(chunk):
        inputs, targets, mask = chunk
        outputs = pathway_network.apply(space, genome, params, inputs)
        return losses.summed_metrics(space.task, outputs, targets, mask)

    sums = jax.lax.map(chunk_sums, (eval_set.inputs, eval_set.targets, eval_set.mask))
    totals = jax.tree_util.tree_map(lambda s: jnp.sum(s, axis=0), sums)
    return losses.finalize_metrics(space.task, totals, space.fitness_metric)


def train(
    space: PathwaySpace,
    settings: TrainSettings,
    genome: PathwayGenome,
    key,
    train_inputs,
    train_targets,
    *,
    program_space: PathwaySpace | None = None,
):
    """Train one genome from scratch.

    Args:
      space: the pathway space.
      settings: static training settings.
      genome: one genome.
      key: PRNG key (initialisation, minibatches, dropout).
      train_inputs: ``[n, *program_space.input_shape]`` float32.
      train_targets: ``[n]``.
      program_space: a shape class's narrower space (see
        :mod:`pathways_jax.spaces.pathway.shape_classes`) that ``genome`` fits, to
        train in its buffers; ``None`` trains in ``space``'s. The initial
        weights are ``space``'s either way.

    Returns:
      ``(params, losses)`` with ``losses`` the ``[steps]`` training losses and
      ``params`` laid out for ``program_space`` (or ``space``).
    """
    init_key, loop_key = jax.random.split(key)
    params = pathway_network.init_params(space, genome, init_key)
    if program_space is not None:
        params = shape_classes.narrow_params(space, program_space, genome, params)
        space = program_space
    state = optimizers.init_optimizer(params)
    params, _, step_losses = continue_training(
        space, settings, genome, params, state, loop_key, train_inputs, train_targets
    )
    return params, step_losses


def continue_training(
    space: PathwaySpace,
    settings: TrainSettings,
    genome: PathwayGenome,
    params,
    state: optimizers.OptimizerState,
    key,
    train_inputs,
    train_targets,
):
    """Train ``params`` (with optimizer ``state``) for ``settings.steps`` more steps.

    The learning-rate schedule continues from ``state.count`` over
    ``settings.schedule_steps``.

    Returns:
      ``(params, state, losses)`` with ``losses`` the ``[steps]`` training losses.
    """
    tables = space.tables
    schedule_steps = settings.schedule_steps or settings.steps
    batch_max = max(tables.batch_sizes)
    batch_size = jnp.asarray(tables.batch_sizes, jnp.int32)[genome.batch_size]
    weights = (jnp.arange(batch_max) < batch_size).astype(jnp.float32)
    weights = weights / batch_size.astype(jnp.float32)
    weight_decay = jnp.asarray(tables.weight_decays, jnp.float32)[genome.weight_decay]
    l1_penalty = jnp.asarray(tables.l1_penalties, jnp.float32)[genome.l1_penalty]
    num_examples = train_inputs.shape[0]

    def loss_fn(params, inputs, targets, dropout_key):
        outputs = pathway_network.apply(space, genome, params, inputs, dropout_key=dropout_key)
        with jax.named_scope("loss"):
            data_loss = jnp.sum(
                losses.per_example_loss(space.task, genome.loss, outputs, targets) * weights
            )
            # Most genomes have no L1 penalty: skip the pass over every kernel.
            no_penalty = lambda params: 0.0
            with_penalty = lambda params: l1_penalty * _l1_norm(params)
            penalty = switch(l1_penalty > 0, [no_penalty, with_penalty], params)
        return data_loss + penalty, data_loss

    def step(carry, step_index):
        params, state = carry
        with jax.named_scope("minibatch"):
            step_key = jax.random.fold_in(key, step_index)
            batch_key, dropout_key = jax.random.split(step_key)
            indices = jax.random.randint(batch_key, (batch_max,), 0, num_examples)
            inputs, targets = train_inputs[indices], train_targets[indices]
        grads, data_loss = jax.grad(loss_fn, has_aux=True)(params, inputs, targets, dropout_key)
        with jax.named_scope("optimizer"):
            learning_rate = optimizers.learning_rate_at(
                genome.schedule, genome.log10_learning_rate, state.count, schedule_steps
            )
            params, state = optimizers.apply_optimizer(
                genome.optimizer, learning_rate, weight_decay, grads, state, params
            )
        return (params, state), data_loss

    (params, state), step_losses = jax.lax.scan(step, (params, state), jnp.arange(settings.steps))
    return params, state, step_losses


def training_metrics(space, settings, genome, params, step_losses, eval_sets) -> dict:
    """``{'train_loss', 'diverged', 'eval'}`` of trained ``params`` (see
    :func:`train_and_evaluate`)."""
    window = min(settings.loss_window, settings.steps)
    train_loss = jnp.mean(step_losses[-window:])
    finite_params = jnp.all(
        jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(params)])
    )
    diverged = ~(jnp.all(jnp.isfinite(step_losses)) & finite_params)
    results = []
    for eval_set in eval_sets:
        metrics = evaluate_params(space, genome, params, eval_set)
        metrics["fitness"] = jnp.where(
            diverged | ~jnp.isfinite(metrics["fitness"]), -jnp.inf, metrics["fitness"]
        )
        results.append(metrics)
    return {"train_loss": train_loss, "diverged": diverged, "eval": tuple(results)}


def train_and_evaluate(
    space: PathwaySpace,
    settings: TrainSettings,
    genome: PathwayGenome,
    key,
    train_inputs,
    train_targets,
    eval_sets: tuple[EvalSet, ...],
    *,
    program_space: PathwaySpace | None = None,
) -> dict[str, jnp.ndarray]:
    """Train one genome and evaluate it on each of ``eval_sets`` (in
    ``program_space``'s buffers when given, as :func:`train`).

    Returns:
      ``{'train_loss', 'diverged', 'eval': (metrics per eval set, ...)}``. A
      candidate whose loss or parameters become non-finite is ``diverged`` and
      its fitness is ``-inf``.
    """
    params, step_losses = train(
        space, settings, genome, key, train_inputs, train_targets, program_space=program_space
    )
    space = program_space or space
    return training_metrics(space, settings, genome, params, step_losses, eval_sets)
