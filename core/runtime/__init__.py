"""The torch-free inference path: ONNX Runtime sessions, image IO, padding, tiling, batches.

Nothing in this package imports torch (a test checks it), so the base install
(numpy, Pillow, ONNX Runtime, typer) runs every exported head.
"""
