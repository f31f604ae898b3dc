"""Trained weights in the layouts of the exported modules.

The Flax export reads ``params.msgpack``: ``{'params': ...}`` of
:class:`~pathways_jax.codegen.plain_network.PlainNetwork`, serialised with
``flax.serialization``. The PyTorch export reads ``weights.pt``: a
``state_dict`` whose layouts differ from Flax's:

- ``nn.Linear.weight`` is ``[out, in]`` (Flax ``Dense.kernel`` is ``[in, out]``);
- ``nn.Conv1d.weight`` is ``[out, in, k]`` and ``nn.Conv2d.weight``
  ``[out, in, kh, kw]`` (Flax ``Conv.kernel`` is ``[*k, in, out]``);
- ``nn.LayerNorm`` has ``weight`` and ``bias`` (Flax: ``scale`` and ``bias``);
- a position embedding is one ``nn.Parameter`` named after its layer (Flax:
  the layer's ``embedding``), channels-last in both.
"""

from __future__ import annotations

import flax.serialization
import numpy as np


def flax_params_bytes(variables: dict) -> bytes:
    """``variables`` (``{'params': ...}`` of float32 arrays) as msgpack bytes."""
    host = {
        "params": {
            layer: {name: np.asarray(value, np.float32) for name, value in leaves.items()}
            for layer, leaves in sorted(variables["params"].items())
        }
    }
    return flax.serialization.msgpack_serialize(host)


def torch_state_dict(variables: dict) -> dict[str, np.ndarray]:
    """The PyTorch ``state_dict`` (as numpy arrays) of Flax ``variables``.

    Args:
      variables: ``{'params': {layer: {'kernel'|'scale'|'bias': array}}}`` with
        layer names ``block{i}_dense``, ``block{i}_conv``, ``block{i}_norm``, ``head``
        (and the attention blocks' layers, see :mod:`~pathways_jax.codegen.plain_attention`).

    Returns:
      ``{'block0_conv.weight': [out, in, *k], 'block0_conv.bias': [out], ...}``,
      float32, contiguous, in sorted key order.
    """
    state = {}
    for layer, leaves in sorted(variables["params"].items()):
        if "embedding" in leaves:
            state[layer] = np.asarray(leaves["embedding"], np.float32)
            continue
        if "scale" in leaves:
            state[f"{layer}.weight"] = np.asarray(leaves["scale"], np.float32)
        else:
            kernel = np.asarray(leaves["kernel"], np.float32)
            if kernel.ndim == 2:
                weight = kernel.T
            else:
                # [*k, in, out] -> [out, in, *k]
                spatial = list(range(kernel.ndim - 2))
                weight = kernel.transpose(kernel.ndim - 1, kernel.ndim - 2, *spatial)
            state[f"{layer}.weight"] = weight
        if "bias" in leaves:  # (An attention block's key projection has none.)
            state[f"{layer}.bias"] = np.asarray(leaves["bias"], np.float32)
    return {name: np.ascontiguousarray(value) for name, value in state.items()}


def write_torch_state_dict(path: str, state: dict[str, np.ndarray]) -> None:
    """Save ``state`` with ``torch.save`` (torch must be installed)."""
    import torch

    torch.save({name: torch.from_numpy(value.copy()) for name, value in state.items()}, path)
