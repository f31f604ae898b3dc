"""Run in a fresh interpreter by codegen_test: imports every exported module
under a directory and writes their outputs (and layer-norm conditioning) to
``outputs.npz``.

    python codegen_check_script.py CASES_DIR
"""

import importlib.util
import os
import sys

import numpy as np


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(cases_dir):
    import flax.linen as nn
    import jax

    names = sorted(os.listdir(cases_dir))
    flax_modules, params, inputs = [], [], []
    for index, name in enumerate(names):
        case = os.path.join(cases_dir, name)
        module = _import(os.path.join(case, "model.py"), f"flax_pathway_{index}")
        flax_modules.append(module)
        params.append(module.load_params(os.path.join(case, "params.msgpack")))
        inputs.append(np.load(os.path.join(case, "inputs.npy")))

    def forward(params, inputs):
        results = []
        for module, p, x in zip(flax_modules, params, inputs, strict=True):
            norm_inputs = []

            def record(next_fun, args, kwargs, context, norm_inputs=norm_inputs):
                if isinstance(context.module, nn.LayerNorm):
                    norm_inputs.append(args[0])
                return next_fun(*args, **kwargs)

            with nn.intercept_methods(record):
                outputs = module.Pathway().apply({"params": p}, x)
            results.append((outputs, norm_inputs))
        return results

    results = jax.device_get(jax.jit(forward)(params, inputs))
    # The exported predict() (its own jitted program) gives the same outputs.
    for module, p, x, (outputs, _) in list(zip(flax_modules, params, inputs, results, strict=True))[
        :4
    ]:
        np.testing.assert_allclose(np.asarray(module.predict(p, x)), outputs, rtol=1e-6, atol=1e-6)
    arrays = {}
    for name, (outputs, norm_inputs) in zip(names, results, strict=True):
        batch = outputs.shape[0]
        conditioning = np.ones(batch)
        for x in norm_inputs:
            x = np.asarray(x, np.float64)
            ratio = np.mean(x**2, axis=-1) / (np.var(x, axis=-1) + 1e-6)
            conditioning *= np.maximum(1.0, ratio.reshape(batch, -1).max(axis=1))
        arrays[f"{name}/flax"] = np.asarray(outputs)
        arrays[f"{name}/conditioning"] = conditioning

    try:
        import torch
    except ImportError:  # The PyTorch export is optional.
        np.savez(os.path.join(os.path.dirname(cases_dir), "outputs.npz"), **arrays)
        return
    torch.set_num_threads(1)
    for index, name in enumerate(names):
        case = os.path.join(cases_dir, name)
        module = _import(os.path.join(case, "model_torch.py"), f"torch_pathway_{index}")
        model = module.load_model(os.path.join(case, "weights.pt"))
        arrays[f"{name}/torch"] = module.predict(model, inputs[index])
    np.savez(os.path.join(os.path.dirname(cases_dir), "outputs.npz"), **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
