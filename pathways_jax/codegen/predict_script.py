"""The ``predict.py`` written beside an exported pathway (a fixed text)."""

PREDICT_SCRIPT = '''"""Predictions of the exported pathway for the examples of an .npz file.

    python predict.py --data=test_split.npz
    python predict.py --data=test_split.npz --framework=torch

The file holds ``x`` [n, *INPUT_SHAPE] and, optionally, ``y`` [n]. Inputs are
preprocessed as in the search (see preprocessing.json) before the model sees
them; regression predictions are given in the units of ``y``.
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


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
    parser.add_argument("--data", required=True, help=".npz file with x and optionally y")
    parser.add_argument("--framework", choices=("flax", "torch"), default="flax")
    parser.add_argument("--show", type=int, default=10, help="predictions to print")
    args = parser.parse_args()
    with open(os.path.join(HERE, "preprocessing.json"), encoding="utf-8") as file:
        preprocessing = json.load(file)
    try:
        with np.load(args.data) as arrays:
            x, y = arrays["x"], arrays["y"] if "y" in arrays else None
    except (OSError, ValueError, KeyError) as error:
        parser.error(f"--data={args.data} cannot be read as an .npz with x (and y): {error}")
    expected = tuple(preprocessing["input_shape"])
    if x.shape[1:] != expected:
        parser.error(f"--data={args.data}: x has shape {x.shape}, expected [n, *{expected}]")
    outputs = model_outputs(args.framework, preprocess(x, preprocessing))
    if preprocessing["task"] == "classification":
        predictions = outputs.argmax(axis=-1)
        print("predicted classes:", predictions[: args.show].tolist())
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
