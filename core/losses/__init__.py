"""Losses shared by the heads.

- `adversarial`: the GAN games (minimax, non-saturating, ML, WGAN, hinge, LSGAN, relativistic),
  all on discriminator logits.
- `regularizers`: WGAN weight clipping, WGAN-GP gradient penalty, R1 penalty.
- `improved`: Salimans et al. (2016) feature matching, minibatch discrimination, historical
  averaging, virtual batch normalisation.
- `pixel`: Charbonnier (smooth L1-like) reconstruction loss.
- `perceptual`: VGG19 feature loss (DeblurGAN, SRGAN).
- `content`: a reconstruction loss chosen by name (pixel or perceptual).
"""
