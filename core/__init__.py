"""gan-app: an image-to-image GAN toolkit.

`gan_app` is the shared core (losses, blocks, training engine, checkpoints, export,
runtime, metrics); `gan_app.apps` holds the application heads and the CLI.
Importing this package is cheap and never imports torch: heavy modules are imported
where they are used.
"""

__version__ = "0.1.0"


def load(name_or_path="deblur", *, threads=None, providers=None):
    """A model ready to call: `gan_app.load("deblur")(image)`; see `gan_app.api.load` (imported on first use)."""
    from gan_app.api import load as _load
    return _load(name_or_path, threads=threads, providers=providers)
