"""Source lines of the attention-space blocks for the Flax and PyTorch exports.

The Flax lines compute what :mod:`~pathways_jax.codegen.plain_attention`
computes, with the same layer names; the PyTorch lines compute the same on
channels-last tensors (``nn.Linear`` projections, two ``einsum`` for the
heads, ``nn.Conv{1,2}d`` with stride equal to the kernel for patches, a
learned ``nn.Parameter`` for positions), so one set of weights serves both
(:func:`~pathways_jax.codegen.weights.torch_state_dict`).
"""

from __future__ import annotations

from pathways_jax.codegen.plain_attention import OPERATIONS
from pathways_jax.codegen.source_text import call_lines, tuple_literal

__all__ = ["OPERATIONS", "flax_block_lines", "flax_helpers", "torch_helpers"]

_FLAX_ATTENTION = '''def multi_head_attention(query, key, value, heads: int, causal: bool) -> jax.Array:
    """[batch, positions, width] projections -> [batch, positions, width]: each head
    (a contiguous group of width / heads channels) attends over the positions."""
    batch, positions, width = query.shape
    head_dim = width // heads
    split = lambda t: t.reshape(batch, positions, heads, head_dim)
    scores = jnp.einsum("bnhd,bmhd->bhnm", split(query), split(key))
    scores = scores / np.sqrt(head_dim)
    if causal:
        later = jnp.arange(positions)[None, :] > jnp.arange(positions)[:, None]
        scores = jnp.where(later, -1e30, scores)
    weights = jax.nn.softmax(scores, axis=-1)
    mixed = jnp.einsum("bhnm,bmhd->bnhd", weights, split(value))
    return mixed.reshape(batch, positions, width)'''

_FLAX_POSITION = '''class PositionEmbedding(nn.Module):
    """A learned table added to a map of per-example shape ``shape``."""

    shape: tuple

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        init = nn.initializers.truncated_normal(0.02)
        return x + self.param("embedding", init, self.shape)'''

_TORCH_ATTENTION = '''def multi_head_attention(query, key, value, heads: int, causal: bool) -> torch.Tensor:
    """[batch, positions, width] projections -> [batch, positions, width]: each head
    (a contiguous group of width / heads channels) attends over the positions."""
    batch, positions, width = query.shape
    head_dim = width // heads
    split = lambda t: t.reshape(batch, positions, heads, head_dim)
    scores = torch.einsum("bnhd,bmhd->bhnm", split(query), split(key))
    scores = scores / math.sqrt(head_dim)
    if causal:
        later = torch.ones(positions, positions, dtype=torch.bool).triu(1)
        later = later.to(query.device)
        scores = torch.where(later, -1e30, scores)
    weights = torch.softmax(scores, dim=-1)
    mixed = torch.einsum("bhnm,bmhd->bnhd", weights, split(value))
    return mixed.reshape(batch, positions, width)'''


def _attention_call(block: dict) -> list[str]:
    arguments = ["query", "key", "value", f"heads={block['heads']}", f"causal={block['causal']}"]
    return call_lines(8, "mixed = multi_head_attention(", arguments)


def _uses(recipe, op: str) -> bool:
    return any(block["op"] == op for block in recipe.blocks)


def flax_helpers(recipe) -> list[str]:
    """Module-level definitions the Flax export's attention blocks call."""
    lines = []
    if _uses(recipe, "self_attention"):
        lines += [*_FLAX_ATTENTION.splitlines(), "", ""]
    if _uses(recipe, "position_embedding"):
        lines += [*_FLAX_POSITION.splitlines(), "", ""]
    return lines


def torch_helpers(recipe) -> list[str]:
    """Module-level definitions the PyTorch export's attention blocks call."""
    return [*_TORCH_ATTENTION.splitlines(), "", ""] if _uses(recipe, "self_attention") else []


def flax_block_lines(block: dict, name: str, target: str, activations: dict) -> list[str]:
    """``Pathway.__call__`` lines (indented 8) of one attention-space block,
    from ``x`` (layer-normed first where the block's norm comes first) to ``target``."""
    op, source = block["op"], "x"
    lines = []
    if block["norm_first"] and block["norm"] == "layer_norm":
        lines.append(f'        h = nn.LayerNorm(epsilon=1e-6, name="{name}_norm")(x)')
        source = "h"
    if op == "self_attention":
        width = block["width"]
        lines.append(f"        tokens = {source}.reshape(x.shape[0], -1, x.shape[-1])")
        for part in ("query", "key", "value"):
            bias = ", use_bias=False" if part == "key" else ""
            lines.append(f'        {part} = nn.Dense({width}{bias}, name="{name}_{part}")(tokens)')
        lines += [
            *_attention_call(block),
            f'        mixed = nn.Dense({width}, name="{name}_out")(mixed)',
            f"        {target} = mixed.reshape(*x.shape[:-1], {width})",
        ]
    elif op == "transformer_mlp":
        hidden = activations[block["hidden_activation"]].format(x="hidden")
        lines += [
            f'        hidden = nn.Dense({block["hidden"]}, name="{name}_mlp_in")({source})',
            *([f"        hidden = {hidden}"] if block["hidden_activation"] != "identity" else []),
            f'        {target} = nn.Dense({block["in_shape"][-1]}, name="{name}_mlp_out")(hidden)',
        ]
    elif op == "position_embedding":
        shape = tuple_literal(block["in_shape"])
        lines.append(f'        {target} = PositionEmbedding({shape}, name="{name}_position")(x)')
    elif op == "patch_embedding":
        patch = tuple_literal([block["patch"]] * (len(block["in_shape"]) - 1))
        lines.append(
            f"        {target} = nn.Conv({block['width']}, {patch}, strides={patch}, "
            f'padding="VALID", name="{name}_patch")(x)'
        )
    else:
        axes = tuple_literal(range(1, len(block["in_shape"])))
        if block["readout"] == "mean":
            lines.append(f"        {target} = jnp.mean(x, axis={axes})")
        else:
            zeros = ", ".join("0" for _ in range(len(block["in_shape"]) - 1))
            lines.append(f"        {target} = x[:, {zeros}]")
    return lines


def torch_init_lines(block: dict, name: str) -> list[str]:
    """``__init__`` lines (indented 8) of one attention-space block's layers."""
    op, channels_in = block["op"], block["in_shape"][-1]
    if op == "self_attention":
        width = block["width"]
        rows = {"query": channels_in, "key": channels_in, "value": channels_in, "out": width}
        return [
            f"        self.{name}_{part} = nn.Linear({fan_in}, {width}"
            + (", bias=False)" if part == "key" else ")")
            for part, fan_in in rows.items()
        ]
    if op == "transformer_mlp":
        return [
            f"        self.{name}_mlp_in = nn.Linear({channels_in}, {block['hidden']})",
            f"        self.{name}_mlp_out = nn.Linear({block['hidden']}, {channels_in})",
        ]
    if op == "position_embedding":
        shape = ", ".join(str(n) for n in block["in_shape"])
        return [f"        self.{name}_position = nn.Parameter(torch.zeros({shape}))"]
    if op == "patch_embedding":
        conv = f"nn.Conv{len(block['in_shape']) - 1}d"
        patch = block["patch"]
        return [
            f"        self.{name}_patch = {conv}({channels_in}, {block['width']}, "
            f"kernel_size={patch}, stride={patch})"
        ]
    return []


def torch_forward_lines(block: dict, name: str, target: str, activations: dict) -> list[str]:
    """``forward`` lines (indented 8) of one attention-space block on a
    channels-last ``x``, except the patch embedding, which reads and writes
    channels-first (torch's convolution layout)."""
    op = block["op"]
    lines, source = [], "x"
    if block["norm_first"] and block["norm"] == "layer_norm":
        lines.append(f"        h = self.{name}_norm(x)")
        source = "h"
    if op == "self_attention":
        lines += [
            f"        tokens = {source}.reshape(x.shape[0], -1, x.shape[-1])",
            f"        query = self.{name}_query(tokens)",
            f"        key = self.{name}_key(tokens)",
            f"        value = self.{name}_value(tokens)",
            *_attention_call(block),
            f"        {target} = self.{name}_out(mixed).reshape(*x.shape[:-1], {block['width']})",
        ]
    elif op == "transformer_mlp":
        lines.append(f"        hidden = self.{name}_mlp_in({source})")
        if block["hidden_activation"] != "identity":
            lines.append(
                "        hidden = " + activations[block["hidden_activation"]].format(x="hidden")
            )
        lines.append(f"        {target} = self.{name}_mlp_out(hidden)")
    elif op == "position_embedding":
        lines.append(f"        {target} = x + self.{name}_position")
    elif op == "patch_embedding":
        lines.append(f"        {target} = self.{name}_patch(x)")
    else:
        dims = tuple_literal(range(1, len(block["in_shape"])))
        if block["readout"] == "mean":
            lines.append(f"        {target} = x.mean(dim={dims})")
        else:
            zeros = ", ".join("0" for _ in range(len(block["in_shape"]) - 1))
            lines.append(f"        {target} = x[:, {zeros}]")
    return lines
