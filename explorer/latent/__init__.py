"""The latent space: shared and read-only, numpy in and out (directions, styles, neighbours, blends, the encoded corpus)."""
