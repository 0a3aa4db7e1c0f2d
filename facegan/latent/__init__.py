"""Faces in z: projecting real faces into the latent space (projection, with the latent encoder's first guess),
face math on the codes, and inpainting."""
