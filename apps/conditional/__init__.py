"""Class-conditional image generation head (conditional DCGAN, cGAN / AC-GAN / projection discriminators)."""
