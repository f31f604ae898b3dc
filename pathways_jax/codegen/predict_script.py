"""The ``predict.py`` written beside an exported pathway (a fixed text)."""

PREDICT_SCRIPT = '''"""Predictions of the exported pathway for the examples of an .npz or .csv file.

    python predict.py --data=test_split.npz
    python predict.py --data=test_split.npz --framework=torch
    python predict.py --data=rows.csv          # a model of a table: raw rows

An .npz file holds ``x`` [n, *INPUT_SHAPE] and, optionally, ``y`` [n]. A
model found on a table reads a .csv with a header row and the training
columns it uses (any order; text, booleans and empty cells as in training;
``unused_columns`` in preprocessing.json may be left out; a ``label``
column, if present, is compared with the predictions). Inputs are
preprocessed as in the search (see preprocessing.json; tables by
table_encoding.py) before the model sees them; regression predictions are
given in the units of ``y``, classes by their names when they had names.
"""

import argparse
import csv
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL_COLUMN = "label"


def read_table(path: str) -> dict:
    """``{column: cells as text}`` of a .csv file with a header row."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = [row for row in csv.reader(file) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError("the file is empty (expected a header row and data rows)")
    header, data = [name.strip() for name in rows[0]], rows[1:]
    for number, row in enumerate(data, start=2):
        if len(row) != len(header):
            raise ValueError(f"line {number} has {len(row)} cells (expected {len(header)})")
    return {name: np.asarray([row[i] for row in data], dtype=object) for i, name in enumerate(header)}


def table_inputs(table: dict, preprocessing: dict) -> np.ndarray:
    """Encoded inputs of raw rows, by the encoding fitted on the training rows."""
    sys.path.insert(0, HERE)
    import table_encoding

    encoding = preprocessing["table"]
    unknown = table_encoding.unknown_categories(encoding, table)
    for column, levels in unknown.items():
        print(
            f"note: column {column!r} has categories not seen in training {levels[:5]}; "
            "they are encoded as no category",
            file=sys.stderr,
        )
    # Columns the pathway does not read (its input mask) may be left out.
    return table_encoding.encode(encoding, table, preprocessing.get("unused_columns", ()))


def labels_of(cells, preprocessing: dict) -> np.ndarray:
    """The label column as class ids or targets."""
    names = preprocessing.get("class_names")
    if preprocessing["task"] == "classification" and names is not None:
        index = {name: i for i, name in enumerate(names)}
        return np.asarray([index.get(str(cell).strip(), -1) for cell in cells])
    return np.asarray([float(cell) for cell in cells])


def preprocess(x: np.ndarray, preprocessing: dict) -> np.ndarray:
    """Standardise the inputs as the search did (when it did)."""
    x = np.asarray(x, np.float64)
    if preprocessing["input_mean"] is not None:
        mean = np.asarray(preprocessing["input_mean"], np.float64)
        std = np.asarray(preprocessing["input_std"], np.float64)
        x = (x - mean) / std
    return x.astype(np.float32)


def model_outputs(framework: str, x: np.ndarray) -> np.ndarray:
    """Outputs [n, NUM_OUTPUTS] of the Flax or PyTorch export."""
    sys.path.insert(0, HERE)
    if framework == "flax":
        import model

        params = model.load_params(os.path.join(HERE, "params.msgpack"))
        return np.asarray(model.predict(params, x))
    import model_torch

    network = model_torch.load_model(os.path.join(HERE, "weights.pt"))
    return model_torch.predict(network, x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", required=True, help=".npz file with x and optionally y, or a .csv of raw rows"
    )
    parser.add_argument("--framework", choices=("flax", "torch"), default="flax")
    parser.add_argument("--show", type=int, default=10, help="predictions to print")
    args = parser.parse_args()
    with open(os.path.join(HERE, "preprocessing.json"), encoding="utf-8") as file:
        preprocessing = json.load(file)
    if args.data.endswith(".csv"):
        if "table" not in preprocessing:
            parser.error(f"--data={args.data}: this model was not found on a table (expected .npz)")
        try:
            table = read_table(args.data)
            y = labels_of(table.pop(LABEL_COLUMN), preprocessing) if LABEL_COLUMN in table else None
            inputs = table_inputs(table, preprocessing)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            parser.error(f"--data={args.data}: {error}")
    else:
        try:
            with np.load(args.data) as arrays:
                x, y = arrays["x"], arrays["y"] if "y" in arrays else None
        except (OSError, ValueError, KeyError) as error:
            parser.error(f"--data={args.data} cannot be read as an .npz with x (and y): {error}")
        expected = tuple(preprocessing["input_shape"])
        if x.shape[1:] != expected:
            parser.error(f"--data={args.data}: x has shape {x.shape}, expected [n, *{expected}]")
        inputs = preprocess(x, preprocessing)
    outputs = model_outputs(args.framework, inputs)
    if preprocessing["task"] == "classification":
        predictions = outputs.argmax(axis=-1)
        names = preprocessing.get("class_names")
        shown = predictions[: args.show].tolist()
        print("predicted classes:", [names[i] for i in shown] if names else shown)
        if y is not None:
            correct = int(np.sum(predictions == y))
            print(f"accuracy: {correct / len(y):.4f} ({correct}/{len(y)})")
    else:
        scale, shift = preprocessing["target_std"], preprocessing["target_mean"]
        predictions = outputs[:, 0].astype(np.float64) * scale + shift
        print("predictions:", np.round(predictions[: args.show], 4).tolist())
        if y is not None:
            mse = float(np.mean(np.square(predictions - y)))
            r2 = 1.0 - mse / max(float(np.var(y)), 1e-12)
            print(f"mse: {mse:.4f} r2: {r2:.4f} ({len(y)} examples)")


if __name__ == "__main__":
    main()
'''
