"""Text encoders behind one interface: token rows (B, L) int64 -> sentence embedding (B, text_dim).

Both kinds look up a table row per token (row 0 = padding), run a 1-layer GRU so word order
matters, average the GRU outputs over the real (non-padding) tokens and project linearly:
- "wordllama": the table is wordllama's pretrained 256-d token embeddings, frozen (a
  non-persistent buffer: read from the wordllama wheel when the model is built, never saved
  in checkpoints); only the GRU and projection train.
- "trainable": an own `nn.Embedding` over the model's word vocabulary, trained from scratch.

Padding sits at the end, so with a unidirectional GRU the outputs at real tokens never see
it: a caption's embedding does not depend on the padded length. A CLIP text encoder would
plug in as another `kind` with the same (tokens -> (B, text_dim)) contract.

`frozen` encoders (pretrained by `pretrain.py` before the GAN, as Reed et al. did) compute
their embedding without autograd: no GAN loss moves them, and their parameters keep no
gradient, so the optimizers skip them.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .tokens import PAD

KINDS = ("wordllama", "trainable")


def wordllama_rows() -> torch.Tensor:
    """(32001, 256) float32 wordllama table (row 0: padding)."""
    from .wordllama_table import table

    return torch.from_numpy(table())


class TextEncoder(nn.Module):
    """tokens (B, L) int64 in [0, rows) -> (B, text_dim) float.

    `kind`: "wordllama" (frozen pretrained table) or "trainable" (`rows` x `word_dim` embedding).
    """

    def __init__(self, kind: str, rows: int, word_dim: int, hidden: int, text_dim: int, frozen: bool = False):
        super().__init__()
        self.frozen = frozen
        if kind not in KINDS:
            raise ValueError(f"text encoder kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        if kind == "wordllama":
            self.register_buffer("table", wordllama_rows(), persistent=False)  # (rows, 256), frozen
            self.embed = None
            word_dim = self.table.shape[1]
        else:
            self.embed = nn.Embedding(rows, word_dim, padding_idx=PAD)
        self.gru = nn.GRU(word_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, text_dim)
        self.text_dim = text_dim

    def lookup(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token rows (B, L) -> word vectors (B, L, word_dim)."""
        if self.embed is not None:
            return self.embed(tokens)
        return self.table[tokens]

    def sequence(self, vectors: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Word vectors (B, L, word_dim) of `tokens` (B, L) -> sentence embedding (B, text_dim)."""
        outputs, _ = self.gru(vectors)  # (B, L, hidden)
        mask = (tokens != PAD).unsqueeze(-1).to(outputs.dtype)  # (B, L, 1)
        mean = (outputs * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, hidden)
        return self.out(mean)  # (B, text_dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 2 or tokens.dtype != torch.int64:
            raise ValueError(f"tokens must be int64 (B, L), got {tokens.dtype} {tuple(tokens.shape)}")
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            return self.sequence(self.lookup(tokens), tokens)  # (B, text_dim)


class ReducedTextEncoder(nn.Module):
    """The same encoder over only the rows in `rows` (new row i = old row rows[i]), for export.

    Keeps a shipped ONNX file small: the 32,001-row wordllama table shrinks to the vocabulary's.
    """

    def __init__(self, encoder: TextEncoder, rows: list[int]):
        super().__init__()
        if rows[0] != PAD:
            raise ValueError("the first kept row must be the padding row 0")
        with torch.no_grad():
            full = encoder.lookup(torch.tensor([rows], dtype=torch.int64))[0]  # (R, word_dim)
        self.table = nn.Parameter(full.clone(), requires_grad=False)
        self.encoder = encoder

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.encoder.sequence(self.table[tokens], tokens)  # (B, text_dim)
