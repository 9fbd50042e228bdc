"""Text-to-image head: GAN-INT-CLS (Reed et al. 2016) with wordllama or trainable text encoders."""
