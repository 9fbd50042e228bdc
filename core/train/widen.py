"""Start a wider model from a narrower one's weights so that it computes the same function.

`train.init_widen` (with `train.init_from`): every tensor of the source that is smaller than the
model's in some dimension goes into the leading slice of the model's tensor (Net2Net's
function-preserving widening, Chen et al. 2016, in its zero-padding form). What makes it the
same function: a layer's old outputs must not read the new input channels, so for convolutions
and linear layers that block, weight[:old_out, old_in:], is zero; the new outputs keep their
random initialisation, which is what lets the new channels learn (a zero there would give them
no gradient). The layer after them reads them with zero weights at first, so the output is
unchanged until training moves those weights. Written here because no library does this for an
arbitrary `nn.Module`; it is correct for dense convolutions and linear layers (the plain conv
stacks of the super-resolution and deblur bodies); a grouped or depthwise layer whose shape
changes is refused, since its channel blocks mean something else.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_app.errors import UserError

# weight layout of each dense layer type: which dimensions are (output, input) channels
_LAYOUT = {nn.Conv1d: (0, 1), nn.Conv2d: (0, 1), nn.Conv3d: (0, 1), nn.Linear: (0, 1),
           nn.ConvTranspose1d: (1, 0), nn.ConvTranspose2d: (1, 0), nn.ConvTranspose3d: (1, 0)}


def widened_state(model: nn.Module, source: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`source` (name -> tensor, the model's names) with every narrower tensor embedded into the model's.

    Tensors of the model's shape pass through; a larger one, or one of a different rank, is a UserError.
    """
    current = model.state_dict()
    layouts = {f"{name}.weight": (_LAYOUT[type(m)], getattr(m, "groups", 1))
               for name, m in model.named_modules() if type(m) in _LAYOUT}
    out = {}
    for name, tensor in source.items():
        target = current.get(name)
        if target is None or target.shape == tensor.shape:
            out[name] = tensor          # unknown names and equal shapes: load_module reports or loads them
            continue
        if target.dim() != tensor.dim() or any(s > t for s, t in zip(tensor.shape, target.shape)):
            raise UserError(f"train.init_widen: {name} is {tuple(tensor.shape)} in the source but "
                            f"{tuple(target.shape)} in the model; a widened model may only grow")
        layout, groups = layouts.get(name, (None, 1))
        if layout is not None and groups != 1:
            raise UserError(f"train.init_widen: {name} is a grouped layer (groups={groups}) whose shape changed; "
                            "widening keeps the function only for dense layers")
        grown = target.detach().clone()
        grown[tuple(slice(0, s) for s in tensor.shape)] = tensor
        if layout is not None:          # old outputs must not read the new inputs
            o, i = layout
            block = [slice(None)] * grown.dim()
            block[o], block[i] = slice(0, tensor.shape[o]), slice(tensor.shape[i], None)
            grown[tuple(block)] = 0
        out[name] = grown
    return out
