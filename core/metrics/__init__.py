"""Metrics: fidelity (PSNR/SSIM), Fréchet distance, Inception-Score-style scores."""
