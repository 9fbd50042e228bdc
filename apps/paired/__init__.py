"""The generic paired image-to-image head (pix2pix-style): train a named model from A/B pairs, no code."""
