"""Write an evolved pathway to a directory as code a user runs without us.

:func:`export_pathway` writes, for one genome and its trained super-network
parameters:

- ``model.py`` and ``params.msgpack``: the Flax module and its weights;
- ``model_torch.py`` and ``weights.pt``: the PyTorch module and its weights
  (when torch is installed);
- ``predict.py``: a runnable example that prints predictions and accuracy
  for an ``.npz`` file;
- ``preprocessing.json``: how raw inputs become model inputs;
- ``pathway.txt``: the description and block diagram.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Sequence

import numpy as np

from pathways_jax.codegen import flax_emitter, torch_emitter, weights
from pathways_jax.codegen.plain_network import plain_params_from_supernet
from pathways_jax.codegen.predict_script import PREDICT_SCRIPT
from pathways_jax.codegen.recipe import decode_recipe
from pathways_jax.codegen.source_text import block_diagram
from pathways_jax.codegen.sources import TARGETS, module_header
from pathways_jax.data import table_encoding
from pathways_jax.spaces.pathway.genome import PathwayGenome, genome_from_json
from pathways_jax.spaces.pathway.space import PathwaySpace

FLAX_MODULE = "model.py"
FLAX_PARAMS = "params.msgpack"
TORCH_MODULE = "model_torch.py"
TORCH_WEIGHTS = "weights.pt"
PREDICT_FILE = "predict.py"
PREPROCESSING_FILE = "preprocessing.json"
DIAGRAM_FILE = "pathway.txt"
TEST_SPLIT_FILE = "test_split.npz"
TEST_TABLE_FILE = "test_split.csv"
TABLE_ENCODING_FILE = "table_encoding.py"
LABEL_COLUMN = "label"


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def preprocessing_record(dataset) -> dict:
    """What turns a raw example of ``dataset`` into a model input, as JSON
    (with ``table``, the raw table encoding, and ``class_names`` when the
    dataset has them)."""
    as_list = lambda v: None if v is None else np.asarray(v, np.float64).tolist()
    record = {
        "task": dataset.task,
        "input_shape": list(dataset.input_shape),
        "num_outputs": int(dataset.num_outputs),
        "input_mean": as_list(dataset.input_mean),
        "input_std": as_list(dataset.input_std),
        "target_mean": float(dataset.target_mean),
        "target_std": float(dataset.target_std),
    }
    if getattr(dataset, "encoding", None) is not None:
        record["table"] = dataset.encoding
    if getattr(dataset, "class_names", None) is not None:
        record["class_names"] = list(dataset.class_names)
    return record


def unused_columns(space, genome, dataset) -> list[str] | None:
    """The table columns a genome with an input mask does not read (None
    without feature selection on a table)."""
    if not space.input_groups or getattr(dataset, "encoding", None) is None:
        return None
    names = [column["name"] for column in dataset.encoding["columns"]]
    mask = np.asarray(genome.input_mask)
    return [name for name, bit in zip(names, mask, strict=True) if not bit]


def write_raw_test_table(path: str, dataset) -> None:
    """The raw test rows of a table dataset as CSV, labels last (as class names)."""
    import csv

    columns = dataset.raw_test
    labels = np.asarray(dataset.y_test)
    if dataset.task == "regression":
        labels = labels.astype(np.float64) * dataset.target_std + dataset.target_mean
    elif dataset.class_names is not None:
        labels = np.asarray(dataset.class_names, dtype=object)[labels]
    names = list(columns)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*names, LABEL_COLUMN])
        for row in range(len(labels)):
            cells = [_csv_cell(columns[name][row]) for name in names]
            writer.writerow([*cells, _csv_cell(labels[row])])


def _csv_cell(cell) -> str:
    if table_encoding.is_missing(cell):
        return ""
    if isinstance(cell, float | np.floating):
        return repr(float(cell))
    return str(cell)


def raw_test_split(dataset) -> dict[str, np.ndarray]:
    """The test split in the units of the source data (standardisation undone)."""
    x = np.asarray(dataset.x_test, np.float64)
    if dataset.input_mean is not None:
        x = x * dataset.input_std + dataset.input_mean
    y = dataset.y_test
    if dataset.task == "regression":
        y = np.asarray(y, np.float64) * dataset.target_std + dataset.target_mean
    return {"x": x, "y": y}


def _write_text(path: str, text: str) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)


def _write_bytes(path: str, data: bytes) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def export_pathway(
    out_dir: str,
    space: PathwaySpace,
    genome: PathwayGenome,
    params: dict,
    dataset,
    *,
    steps: int,
    provenance: dict | None = None,
    formats: Sequence[str] = TARGETS,
    write_test_split: bool = True,
) -> list[str]:
    """Export one trained pathway into ``out_dir``.

    Args:
      out_dir: directory to write (created if needed).
      space: the pathway space.
      genome: one valid genome.
      params: its trained super-network parameters (no population axis).
      dataset: the :class:`~pathways_jax.data.Dataset` it was trained on (for
        preprocessing and the test split).
      steps: training steps its schedule spans.
      provenance: metrics and command for the module docstrings.
      formats: ``'flax'`` and/or ``'torch'``; torch is skipped with a note in
        the returned list when it is not installed.
      write_test_split: also write ``test_split.npz`` for ``predict.py``.

    Returns:
      The paths written.

    Raises:
      ValueError: a corrupted or invalid genome, or an unknown format.
    """
    unknown = [f for f in formats if f not in TARGETS]
    if unknown:
        raise ValueError(f"format must be one of {TARGETS}, got {unknown[0]!r}")
    recipe = decode_recipe(space, genome, steps)
    variables = plain_params_from_supernet(space, genome, params, list(recipe.blocks))
    os.makedirs(out_dir, exist_ok=True)
    written = []

    def write(name, content):
        path = os.path.join(out_dir, name)
        if isinstance(content, bytes):
            _write_bytes(path, content)
        else:
            _write_text(path, content)
        written.append(path)

    if "flax" in formats:
        write(
            FLAX_MODULE, flax_emitter.flax_source(recipe, module_header(recipe, "flax", provenance))
        )
        write(FLAX_PARAMS, weights.flax_params_bytes(variables))
    if "torch" in formats and torch_available():
        header = module_header(recipe, "torch", provenance)
        write(TORCH_MODULE, torch_emitter.torch_source(recipe, header))
        path = os.path.join(out_dir, TORCH_WEIGHTS)
        weights.write_torch_state_dict(path, weights.torch_state_dict(variables))
        written.append(path)
    write(PREDICT_FILE, PREDICT_SCRIPT)
    preprocessing = preprocessing_record(dataset)
    unused = unused_columns(space, genome, dataset)
    if unused is not None:
        preprocessing["unused_columns"] = unused
    write(PREPROCESSING_FILE, json.dumps(preprocessing, indent=2) + "\n")
    write(DIAGRAM_FILE, recipe.description + "\n\n" + block_diagram(recipe) + "\n")
    if getattr(dataset, "encoding", None) is not None:
        # predict.py encodes raw rows with the same code the search used.
        with open(table_encoding.__file__, encoding="utf-8") as file:
            write(TABLE_ENCODING_FILE, file.read())
        if write_test_split and dataset.raw_test is not None:
            path = os.path.join(out_dir, TEST_TABLE_FILE)
            write_raw_test_table(path, dataset)
            written.append(path)
    elif write_test_split:
        path = os.path.join(out_dir, TEST_SPLIT_FILE)
        np.savez(path, **raw_test_split(dataset))
        written.append(path)
    return written


def export_best(
    out_dir: str,
    space: PathwaySpace,
    record: dict,
    params: dict,
    dataset,
    final: dict,
    *,
    command: str | None = None,
    formats: Sequence[str] = TARGETS,
) -> list[str]:
    """Export the pathway of a history ``record`` with its retrained ``params``.

    Args:
      out_dir: e.g. ``WORKDIR/best``.
      space: the run's pathway space.
      record: a ``history.jsonl`` record (``genome``, ``id``, ...).
      params: its retrained super-network parameters.
      dataset: the run's dataset.
      final: ``{'steps', 'validation', 'test'}`` metrics of the retrained pathway
        (``test`` may be absent for a pathway that was not tested).
      command: the command that produced the run.
      formats: targets to write.
    """
    genome = genome_from_json(record["genome"], space.tables.max_depth)
    provenance = {
        "validation": final.get("validation"),
        "test": final.get("test"),
        "command": command,
    }
    return export_pathway(
        out_dir,
        space,
        genome,
        params,
        dataset,
        steps=int(final["steps"]),
        provenance=provenance,
        formats=formats,
    )
