"""gan-app: an image-to-image GAN toolkit.

`gan_app` is the shared core (losses, blocks, training engine, checkpoints, export,
runtime, metrics); `gan_app.apps` holds the application heads and the CLI.
Importing this package is cheap and never imports torch: heavy modules are imported
where they are used.
"""

__version__ = "0.1.0"
