"""The toy head: 2-D GANs (8-Gaussian ring, sine curve) that train in seconds on CPU."""
