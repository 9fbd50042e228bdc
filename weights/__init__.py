"""Shipped ONNX models and their model cards, one folder per head (package data)."""
