"""Export of the text encoder that goes beside the generator graph: `<stem>.text.onnx`.

Called by the core exporter (`Head.export_companions`) once the generator passed its parity
check. The wordllama table is cut down to the rows the model's vocabulary uses (the full
32,001 x 256 table would be 33 MB); the vocabulary (word -> new rows) goes into the file's
metadata. ONNX Runtime must match PyTorch on every vocabulary word and on sample captions.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from gan_app.errors import UserError
from gan_app.runtime.files import sha256_file
from gan_app.runtime.metadata import set_metadata

from .data import vocabulary_for
from .text_encoder import ReducedTextEncoder
from .text_runtime import KEY_HEAD, KEY_VOCAB, TOKENS_INPUT, text_graph_path
from .tokens import PAD, Vocabulary

OPSET = 18
TOLERANCE = 1e-4


def reduce_vocabulary(vocab: Vocabulary) -> tuple[list[int], Vocabulary]:
    """(kept table rows, the vocabulary renumbered onto them); row 0 (padding) stays first."""
    rows = [PAD] + sorted({r for pieces in vocab.pieces.values() for r in pieces})
    new = {old: i for i, old in enumerate(rows)}
    return rows, Vocabulary({w: tuple(new[r] for r in p) for w, p in vocab.pieces.items()}, vocab.max_tokens)


def export_text_encoder(run, generator, out_path: Path) -> dict:
    """Write `<stem>.text.onnx` for `generator.text`; returns its model-card entry."""
    import onnx
    import onnxruntime as ort

    m = run.model
    if not m.vocab:
        raise UserError("the checkpoint's model has no vocabulary (it was never trained on captions); cannot export")
    rows, vocab = reduce_vocabulary(vocabulary_for(m))
    encoder = ReducedTextEncoder(generator.text, rows).eval()
    words = sorted(vocab.pieces)
    tokens = torch.from_numpy(vocab.encode(words + [" ".join(words[i::3]) for i in range(3)]).tokens)  # (W + 3, L)
    path = text_graph_path(Path(out_path))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")  # the TorchScript exporter's deprecation and GRU batch-first notes
        torch.onnx.export(encoder, (tokens[:1],), str(path), input_names=[TOKENS_INPUT], output_names=["embedding"],
                          dynamic_axes={TOKENS_INPUT: {0: "B"}, "embedding": {0: "B"}}, opset_version=OPSET,
                          dynamo=False)
    proto = onnx.load(str(path))
    set_metadata(proto, {KEY_VOCAB: json.dumps(vocab.to_json_dict(), sort_keys=True), KEY_HEAD: run.head})
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    with torch.no_grad():
        reference = encoder(tokens).numpy()
        full = generator.text(torch.from_numpy(vocabulary_for(m).encode(words).tokens)).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {TOKENS_INPUT: tokens.numpy()})[0]
    worst = float(max(np.abs(got - reference).max(), np.abs(reference[: len(words)] - full).max()))
    if not worst <= TOLERANCE:
        path.unlink()
        raise UserError(f"text encoder ONNX parity failed: max abs difference {worst:.3g} > {TOLERANCE:g}; not written")
    return {"text_encoder": {"file": path.name, "sha256": sha256_file(path), "words": len(words),
                             "table_rows": len(rows), "max_tokens": vocab.max_tokens, "kind": m.text_encoder,
                             "parity_max_abs_diff": worst, "parity_cases": len(tokens)}}
