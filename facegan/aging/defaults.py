"""The default strengths of aging, which `facegan age --help` shows: Keras-free, so that it answers before
TensorFlow loads."""
# The default strengths of the two ways (the photo plus what aging changed, `aging_change`; the generator's own face,
# `regenerate_at`), calibrated on the shipped pair, its gender reader and (for the photo's way) its strength table
# with bench/aging.py (held-out 18-35-year-olds aged to 60): at these, the aged faces read to the outside age
# estimator like real 55-65-year-olds. A pair calibrated otherwise saves its own photo strength with its strength table
# (`facegan fit-strengths --photo-strength`); this one is for tables saved without one.
PHOTO_STRENGTH = 1.8
REGENERATED_STRENGTH = 1.25
