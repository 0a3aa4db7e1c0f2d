"""The defaults of projection (facegan.latent.projection) and of the latent encoder's training
(facegan.latent.encoder), which the commands' flags show: Keras-free, so that --help answers before TensorFlow
loads."""
STEPS = 300  # from random starts
RESTARTS = 3
# From an encoder's guess: 30 steps from that one start. For aging it kept the person more often than 300 steps from
# 3 random starts (80% against 73%) at a twentieth of the time; for the plain DCGAN it is 23 times faster and keeps
# the person about as often (28% against 31%), with a higher pixel error (docs/aging.md, docs/facemath.md).
STEPS_FROM_ENCODER = 30
RESTARTS_FROM_ENCODER = 1
PERCEPTUAL_WEIGHT = 0.1
LEARNING_RATE = 0.05
# `facegan project` and `complete` refine the feature map for 30 steps after z: on 128 held-out faces the
# reconstructions stay the same person 87% of the time (z alone 16%) at 2.5 faces/s (docs/facemath.md).
REFINE_STEPS = 30
# The latent encoder's training (`facegan train-encoder`)
ENCODER_STEPS = 3000
ENCODER_BATCH = 64
ENCODER_FILTERS = 32  # the trunk's first layer; 32 makes a 6 MB file, 64 a 21 MB one
