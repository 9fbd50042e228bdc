"""pix2pix U-Net generator (Isola et al. 2017) with a configurable depth.

`depth` stride-2 downsamplings take the input to H / 2**depth at the bottleneck, so H and W
must be multiples of 2**depth (`size_multiple`): depth 8 maps 256 px to 1x1 (pix2pix
"unet_256"), depth 6 suits 64 px inputs. Each decoder stage concatenates the matching
encoder output (skip connection), which carries the fine detail past the bottleneck.

Dropout: pix2pix keeps dropout on at test time as its only noise source. Here dropout follows
the usual module mode (active in train, off in eval), so the exported model is deterministic.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .norm import make_act, make_norm

# pix2pix puts dropout in the three decoder stages right above the bottleneck.
_DROPOUT_STAGES = 3


class UNetGenerator(nn.Module):
    """x (B, in_channels, H, W) -> (B, out_channels, H, W); H, W multiples of 2**depth.

    Encoder level i (0-based) has width base_width * min(2**i, 8) and computes
    norm(conv4x4s2(LeakyReLU(e_{i-1}))) (level 0: conv only; bottleneck: no norm). The decoder
    mirrors it with ReLU -> transposed conv -> norm [-> dropout], concatenating the encoder
    output of the same size. `out_activation`: "tanh" (output in [-1, 1]) or "none".
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        base_width: int = 64,
        depth: int = 8,
        norm: str = "batch",
        dropout: float = 0.5,
        out_activation: str = "tanh",
    ):
        super().__init__()
        if depth < 2:
            raise ValueError(f"UNetGenerator depth must be >= 2, got {depth}")
        if norm == "cbn":
            raise ValueError("UNetGenerator norm must be 'batch', 'instance' or 'none'")
        if out_activation not in ("tanh", "none"):
            raise ValueError(f"out_activation must be 'tanh' or 'none', got {out_activation!r}")
        self.in_channels, self.depth = in_channels, depth
        widths = [base_width * min(2**i, 8) for i in range(depth)]
        bias = norm == "none"

        encoder = [nn.Conv2d(in_channels, widths[0], 4, 2, 1)]  # no norm follows: keep the bias
        for i in range(1, depth):
            innermost = i == depth - 1
            encoder.append(
                nn.Sequential(
                    nn.LeakyReLU(0.2),
                    nn.Conv2d(widths[i - 1], widths[i], 4, 2, 1, bias=bias or innermost),
                    nn.Identity() if innermost else make_norm(norm, widths[i]),
                )
            )
        self.encoder = nn.ModuleList(encoder)

        # decoder[j] undoes encoder level depth-1-j; its input is the bottleneck (j=0) or the
        # previous decoder output concatenated with the skip (twice the width).
        decoder = []
        for i in range(depth - 1, 0, -1):
            in_w = widths[i] if i == depth - 1 else 2 * widths[i]
            use_dropout = dropout > 0 and 1 <= depth - 1 - i <= _DROPOUT_STAGES
            decoder.append(
                nn.Sequential(
                    nn.ReLU(),
                    nn.ConvTranspose2d(in_w, widths[i - 1], 4, 2, 1, bias=bias),
                    make_norm(norm, widths[i - 1]),
                    nn.Dropout(dropout) if use_dropout else nn.Identity(),
                )
            )
        decoder.append(
            nn.Sequential(
                nn.ReLU(),
                nn.ConvTranspose2d(2 * widths[0], out_channels, 4, 2, 1),
                make_act(out_activation),
            )
        )
        self.decoder = nn.ModuleList(decoder)

    @property
    def size_multiple(self) -> int:
        """Input height and width must be multiples of this (2**depth)."""
        return 2**self.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.size_multiple
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[2] % m or x.shape[3] % m:
            raise ValueError(
                f"UNetGenerator expects (B, {self.in_channels}, H, W) with H, W multiples of {m}, got {tuple(x.shape)}"
            )
        skips = []
        for enc in self.encoder:
            x = enc(x)  # (B, w_i, H / 2**(i+1), W / 2**(i+1))
            skips.append(x)
        skips.pop()  # the bottleneck is the decoder's input, not a skip
        for dec in self.decoder[:-1]:
            x = torch.cat([dec(x), skips.pop()], dim=1)  # (B, 2 * w_{i-1}, ...)
        return self.decoder[-1](x)  # (B, out_channels, H, W)
