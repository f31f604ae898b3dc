"""``to_source``: a genome as the source of one standalone Python module."""

from __future__ import annotations

from pathways_jax.codegen import flax_emitter, torch_emitter
from pathways_jax.codegen.recipe import Recipe, decode_recipe
from pathways_jax.codegen.source_text import block_diagram, indent, metrics_text
from pathways_jax.spaces.pathway.genome import PathwayGenome
from pathways_jax.spaces.pathway.space import PathwaySpace

TARGETS = ("flax", "torch")


def module_header(recipe: Recipe, target: str, provenance: dict | None = None) -> str:
    """The docstring text of an exported module.

    Args:
      recipe: the decoded pathway.
      target: ``'flax'`` or ``'torch'``.
      provenance: optional ``{'validation': metrics, 'test': metrics,
        'command': str}`` of the run that found the pathway.
    """
    provenance = provenance or {}
    framework = {"flax": "Flax", "torch": "PyTorch"}[target]
    weights = {"flax": "params.msgpack", "torch": "weights.pt"}[target]
    lines = [
        f"An evolved pathway as a standalone {framework} module.",
        "",
        indent(recipe.description),
        "",
        indent(block_diagram(recipe)),
        "",
        f"Validation (after retraining): {metrics_text(provenance.get('validation'))}",
        f"Test (evaluated once): {metrics_text(provenance.get('test'))}",
    ]
    if provenance.get("command"):
        lines += ["Produced by:", "", indent(provenance["command"])]
    lines += ["", "Use the trained weights saved beside this file:", ""]
    if target == "flax":
        lines += [
            indent(f'params = load_params("{weights}")'),
            indent("outputs = predict(params, inputs)  # inputs [batch, *INPUT_SHAPE]"),
        ]
    else:
        lines += [
            indent("model = load_model()"),
            indent("outputs = predict(model, inputs)  # inputs [batch, *INPUT_SHAPE]"),
        ]
    return "\n".join(lines)


def to_source(
    space: PathwaySpace,
    genome: PathwayGenome,
    target: str = "flax",
    *,
    steps: int = 1000,
    provenance: dict | None = None,
) -> str:
    """The source of one Python module with only the chosen blocks of ``genome``.

    Args:
      space: the pathway space the genome belongs to.
      genome: one genome (no population axis).
      target: ``'flax'`` (a ``flax.linen`` module, optax chain, ``train_step``)
        or ``'torch'`` (a ``torch.nn.Module``, ``torch.optim``, ``train_step``).
      steps: training steps the learning-rate schedule spans.
      provenance: metrics and command for the docstring (see ``module_header``).

    Returns:
      Deterministic source text: the same genome gives the same bytes.

    Raises:
      ValueError: naming the gene, for a corrupted or invalid genome, or for an
        unknown target.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    recipe = decode_recipe(space, genome, steps)
    header = module_header(recipe, target, provenance)
    if target == "flax":
        return flax_emitter.flax_source(recipe, header)
    return torch_emitter.torch_source(recipe, header)
