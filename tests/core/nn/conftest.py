"""Shared check for tests/core/nn: ONNX export matches PyTorch, with both torch exporters.

`gan_app.export` ships with the legacy TorchScript exporter (`dynamo=False`, fast, plain
`dynamic_axes`); the torch.export-based one (`dynamo=True`) is torch's default now. Every
block is checked with both so either can ship it.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

from gan_app.nn.norm import remove_spectral_norm_


def _flat(out) -> list[np.ndarray]:
    items = out if isinstance(out, (list, tuple)) else [out]
    return [t.detach().numpy() for t in items]


def _export(model, inputs, path, exporter, dynamic_shapes):
    if exporter == "dynamo":
        torch.onnx.export(
            model, (), str(path), kwargs=inputs, dynamo=True, verbose=False, dynamic_shapes=dynamic_shapes
        )
        return
    # Legacy: spectral-norm parametrizations do not export (aten::vdot); bake them first.
    model = remove_spectral_norm_(copy.deepcopy(model))
    axes = {name: {a: f"{name}_{a}" for a in dims} for name, dims in (dynamic_shapes or {}).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter is deprecated
        torch.onnx.export(
            model, tuple(inputs.values()), str(path), dynamo=False, input_names=list(inputs), dynamic_axes=axes
        )


@pytest.fixture
def onnx_parity(tmp_path):
    """check(model, inputs: dict[name, tensor], run_inputs=None, dynamic_shapes=None, atol=1e-4).

    `inputs` are in the order of `model.forward`'s parameters. Warms the model up in train mode
    (BN running stats and spectral-norm vectors move away from their init), exports it in eval
    mode with each exporter, then compares ONNX Runtime with PyTorch on `run_inputs` (default:
    the export inputs). Returns the ONNX outputs of the last exporter.
    """
    import onnxruntime as ort

    def check(model, inputs, run_inputs=None, dynamic_shapes=None, atol=1e-4):
        model.train()
        with torch.no_grad():
            model(**inputs)
        model.eval()
        run_inputs = run_inputs or inputs
        with torch.no_grad():
            expected = _flat(model(**run_inputs))
        for exporter in ("dynamo", "legacy"):
            path = tmp_path / f"{exporter}.onnx"
            _export(model, inputs, path, exporter, dynamic_shapes)
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            assert sorted(i.name for i in session.get_inputs()) == sorted(run_inputs)
            got = session.run(None, {k: v.numpy() for k, v in run_inputs.items()})
            assert len(got) == len(expected)
            for g, e in zip(got, expected):
                assert g.shape == e.shape, exporter
                np.testing.assert_allclose(g, e, atol=atol, rtol=0, err_msg=exporter)
        return got

    return check
