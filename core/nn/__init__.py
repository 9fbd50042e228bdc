"""Reusable GAN building blocks: DCGAN, conditioning, residual/upsampling blocks, PatchGAN, U-Net.

Modules (import them directly; this package imports nothing on its own):
- `norm`: `make_norm`, `make_act`, spectral-norm helpers.
- `conditional`: label embedding concat, conditional batch norm, projection and AC-GAN heads.
- `dcgan`: DCGAN generator and discriminator for any power-of-two resolution.
- `blocks`: `ConvNormAct`, `ResidualBlock`, `PixelShuffleUpsample`.
- `patchgan`: pix2pix `PatchDiscriminator` and `MultiScaleDiscriminator`.
- `unet`: pix2pix `UNetGenerator`.
"""
