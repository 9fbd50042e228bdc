"""User-facing errors.

A `UserError` is something the user can fix (bad path, wrong file, missing extra).
The CLI prints its message as one line and exits non-zero, never a traceback.
"""


class UserError(Exception):
    """An error caused by input the user controls; the message says what to do."""

    exit_code = 2


def require_train_extra(feature: str = "training") -> None:
    """Fail clearly when the `[train]` extra (torch and friends) is not installed.

    The base install is the torch-free ONNX Runtime path, so training, export and
    evaluation commands call this first.
    """
    import importlib.util

    def absent(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is None
        except (ImportError, ValueError):   # a broken install can fail the lookup itself
            return True

    missing = [m for m in ("torch", "torchvision", "safetensors") if absent(m)]
    if missing:
        raise UserError(
            f"{feature} needs the training extra ({', '.join(missing)} not installed): "
            "run `pip install 'gan-app[train]'`"
        )


def pickle_hint(path, wanted: str = "safetensors") -> str:
    """For a `.pt`/`.pth` name, "; " + how to turn it into what gan-app reads (`wanted`: "safetensors" for
    checkpoints and classifiers, "onnx" for models); "" otherwise. gan-app never unpickles, so a PyTorch
    pickle is refused whatever it holds."""
    from pathlib import Path

    if Path(path).suffix.lower() not in (".pt", ".pth"):
        return ""
    if wanted == "onnx":
        return ("; PyTorch pickles (.pt/.pth) are never loaded: gan-app runs ONNX models, made with "
                "`gan-app export HEAD --checkpoint CKPT.safetensors -o model.onnx`")
    return ("; PyTorch pickles (.pt/.pth) are never loaded: convert with safetensors.torch.save_file("
            "torch.load(f, weights_only=True), 'model.safetensors') on a machine you trust")
