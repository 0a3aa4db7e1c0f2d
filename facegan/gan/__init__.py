"""The GAN core: the networks, the noise prior, the documented training steps (recipe), the training loop, its
augmentation and multi-device strategy, and the VAE baseline."""
