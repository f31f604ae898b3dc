"""A drawing of one pathway: blocks as boxes with their genes, residual
connections as arrows around the block they skip, the training genes beside.

:func:`draw_blocks` draws decoded blocks (what the pathway space's ``draw`` gives
it at the end of a search); :func:`draw_pathway` draws from a description
(the space's ``describe``, as stored in ``history.jsonl``), for the report
of a run that has not finished.
"""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

BOX_WIDTH = 3.2
BOX_HEIGHT = 0.9
GAP = 0.55


@dataclasses.dataclass(frozen=True)
class Block:
    """One box of the drawing.

    Attributes:
      operation: e.g. ``conv1d(k5,32)``, ``dense(16)``, ``max_pool1d``.
      genes: the block's other genes as text, e.g. ``("gelu", "layer norm")``.
      residual: the block's output is added to its input.
    """

    operation: str
    genes: tuple[str, ...] = ()
    residual: bool = False


def parse_description(description: str) -> tuple[list[Block], list[str]]:
    """Blocks (the read-out last) and training genes of a pathway description
    such as ``conv1d(k5,32)+gelu+res → dense(10) | adam lr=3.0e-03 cosine``."""
    layers, _, training = description.partition(" | ")
    blocks = []
    for text in layers.split(" → "):
        operation, *parts = text.strip().split("+")
        genes, residual = [], False
        for part in parts:
            if part == "res":
                residual = True
            elif part == "ln":
                genes.append("layer norm")
            elif part.startswith("drop"):
                genes.append(f"dropout {part[4:]}")
            else:
                genes.append(part)
        blocks.append(Block(operation, tuple(genes), residual))
    return blocks, training.split()


def _box(axes, x, y, title, lines, color):
    axes.add_patch(
        FancyBboxPatch(
            (x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2),
            BOX_WIDTH,
            BOX_HEIGHT,
            boxstyle="round,pad=0.05",
            facecolor=color,
            edgecolor="#333333",
        )
    )
    axes.text(x, y + 0.15, title, ha="center", va="center", fontsize=10, weight="bold")
    if lines:
        axes.text(x, y - 0.2, ", ".join(lines), ha="center", va="center", fontsize=8)


def _arrow(axes, start, end, **style):
    axes.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#333333", **style)
    )


def draw_pathway(description: str, path: str, input_label: str = "input") -> None:
    """Draw the pathway ``description`` into the PNG file ``path``."""
    blocks, training = parse_description(description)
    draw_blocks(blocks, training, path, input_label)


def draw_blocks(blocks: list[Block], training: list[str], path: str, input_label: str) -> None:
    """Draw ``blocks`` (the read-out last) into the PNG file ``path``.

    Boxes run top to bottom: the input, each block with its genes, the
    read-out; an arrow around a block is its residual connection; the
    ``training`` genes are listed to the right.
    """
    height = (len(blocks) + 1) * (BOX_HEIGHT + GAP)
    figure, axes = plt.subplots(figsize=(7.5, max(2.5, 0.9 * height + 0.8)))
    centers = [height - (BOX_HEIGHT / 2) - i * (BOX_HEIGHT + GAP) for i in range(len(blocks) + 1)]
    _box(axes, 0.0, centers[0], input_label, [], "#e8e8e8")
    for index, block in enumerate(blocks):
        last = index == len(blocks) - 1
        color = "#fde2c8" if last else "#cfe3f7"
        title = f"read-out {block.operation}" if last else block.operation
        _box(axes, 0.0, centers[index + 1], title, list(block.genes), color)
        _arrow(
            axes,
            (0.0, centers[index] - BOX_HEIGHT / 2 - 0.05),
            (0.0, centers[index + 1] + BOX_HEIGHT / 2 + 0.05),
        )
        if block.residual:
            top = (BOX_WIDTH / 2 + 0.05, centers[index] - BOX_HEIGHT / 2 - GAP / 2)
            bottom = (BOX_WIDTH / 2 + 0.05, centers[index + 1] - BOX_HEIGHT / 2 - GAP / 2)
            _arrow(axes, top, bottom, connectionstyle="arc3,rad=-0.6", linestyle="--")
            axes.text(BOX_WIDTH / 2 + 0.55, centers[index + 1], "+ skip", fontsize=8)
    axes.text(
        BOX_WIDTH / 2 + 1.3,
        height - 0.2,
        "training\n" + "\n".join(training),
        va="top",
        fontsize=9,
        family="monospace",
        bbox={"boxstyle": "round", "facecolor": "#f4f4f4", "edgecolor": "#999999"},
    )
    axes.set_xlim(-BOX_WIDTH / 2 - 0.3, BOX_WIDTH / 2 + 4.2)
    axes.set_ylim(-0.2, height + 0.1)
    axes.axis("off")
    axes.set_title("best pathway")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
