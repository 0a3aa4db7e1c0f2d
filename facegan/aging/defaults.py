"""The default strengths of aging, which `facegan age --help` shows: Keras-free, so that it answers before
TensorFlow loads."""
# The default strengths of the two ways (the photo plus what aging changed, `aging_change`; the generator's own face,
# `regenerate_at`), calibrated with bench/aging.py (held-out 18-35-year-olds aged to 60) so that the aged faces read
# to the outside age estimator like real 55-65-year-olds. Each pair saves the photo's strength it was calibrated at
# with its strength table (`facegan fit-strengths --photo-strength`; the shipped pair's is 1.45); PHOTO_STRENGTH,
# the former shipped pair's, is for a pair without one. REGENERATED_STRENGTH is the shipped pair's (the former
# pair's was 1.25, which takes this one's faces 6 years past real 55-65-year-olds).
PHOTO_STRENGTH = 1.8
REGENERATED_STRENGTH = 1.1
