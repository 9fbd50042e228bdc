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
