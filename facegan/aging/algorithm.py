"""Face aging, Age-cGAN style (Antipov et al., 2017): find the photo's z under its own age, then redraw that z
at the target age.

  1. latent approximation: the latent encoder E (facegan.latent.encoder), trained on pairs (G(z, c), z) drawn from the
     conditional generator, gives a first z in one forward pass;
  2. optimisation: z is refined so that G(z, source age) reproduces the photo: pixel loss + lambda x D's
     perceptual loss (facegan.latent.projection.project, with E's z as the first start and the age held fixed);
  3. the same z at the target age is the aged face. By default what that changes (averaged over z's nearby,
     `aging_change`) is moved onto the photo's features (facegan.aging.flow) and added to the photo itself;
     Age-cGAN's own output, the regenerated face, is the `regenerate` option. With the run's gender reader
     (facegan.aging.gender), z moves at the target age as far as keeps the face's gender, which G alone lets
     drift towards male.
"""
import numpy as np

from facegan.aging import flow
from facegan.aging.defaults import REGENERATED_STRENGTH
from facegan.aging.gender import kept_gender_offsets
from facegan.gan.prior import age_conditions, age_group, draw, neighbours
from facegan.latent.projection import project

# What aging changes in a photo is averaged over CHANGE_SAMPLES z's around its own, each coordinate moved by
# N(0, CHANGE_SPREAD^2): the change that faces like this one undergo, less the redrawing of features that one
# z alone brings with it. On bench/aging.py it keeps more people at the same estimated age.
CHANGE_SAMPLES = 32
CHANGE_SPREAD = 0.3


def age(models, faces, source_ages, target_age, strength=None, regenerate=False, **projection_settings):
    """(reconstructions at the source ages, faces at `target_age`, codes) for faces in [-1, 1], with `models`
    (facegan.aging.models.AgingModels).

    The aged face is the photo plus what aging changed (`aging_change`), or with `regenerate` the generator's
    own face at the target age, as Age-cGAN shows it: the generator redraws few real faces as themselves, so
    the photo's own detail keeps far more of the person (docs/aging.md). `strength` scales the step from the
    source's age group to the target's (see `regenerate_at`); None takes the calibrated default of each way, by
    the run's strength table (facegan.aging.strengths) for the photo's own way when there is one. With the run's
    gender reader (facegan.aging.gender), each face keeps its gender as it ages; without one, G's own drift
    towards male with age is left in."""
    projection = reproduce(models, faces, source_ages, **projection_settings)
    aged = at_age(models, faces, projection.codes, source_ages, target_age, strength, regenerate)
    return projection.reconstructions, aged, projection.codes


def reproduce(models, faces, source_ages, **projection_settings):
    """The projection of faces at their source ages (step 2): its z's, from which any age is a few passes of G."""
    return project(models.generator, models.discriminator, faces, conditions=age_conditions(source_ages),
                   encoder=models.encoder, **projection_settings)


def multiples_of(table, source_ages, target_age):
    """Each face's multiple of the calibrated strength, from its source group's row and the target's column of a
    strength table (facegan.aging.strengths)."""
    target = age_group(int(round(target_age)))
    return np.array([table[age_group(int(round(age))), target] for age in np.ravel(source_ages)], np.float32)


def at_age(models, faces, codes, source_ages, target_age, strength=None, regenerate=False,
           samples=CHANGE_SAMPLES, start=None):
    """Projected faces at `target_age`, as `age` shows them: the photo plus what aging changed (averaged over
    `samples` z's near each code, see `aging_change`; moved from G's reconstruction onto the photo's features),
    or with `regenerate` the generator's own face. Another age costs a few passes of G, no new projection
    (`at_ages`: fewer still). `strength` None: the calibrated default,
    for the photo's way the pair's own (models.photo_strength) times each face's multiple from its strength table
    where there is one. `start`: the `at_source` of these codes, where already drawn."""
    if strength is None and models.strengths is not None and not regenerate:
        strength = models.photo_strength * multiples_of(models.strengths, source_ages, target_age)
    elif strength is None:
        strength = REGENERATED_STRENGTH if regenerate else models.photo_strength
    if regenerate:
        return regenerate_at(models, codes, source_ages, target_age, strength)
    start = start or at_source(models, codes, source_ages, samples)
    change = aging_change(models, codes, source_ages, target_age, strength, samples, start)
    _drawn, _gender, reconstructions = start
    return np.clip(np.asarray(faces) + flow.onto_photos(change, faces, reconstructions), -1.0, 1.0)


def at_ages(models, faces, codes, source_ages, target_ages, strength=None, regenerate=False,
            samples=CHANGE_SAMPLES):
    """[`at_age` for each of `target_ages`], the same faces, with what does not depend on the target age drawn
    once (`at_source`): for the page's five ages, 40% fewer passes of G than five calls of `at_age`."""
    start = None if regenerate else at_source(models, codes, source_ages, samples)
    return [at_age(models, faces, codes, source_ages, target_age, strength, regenerate, samples, start)
            for target_age in target_ages]


def at_source(models, codes, source_ages, samples=CHANGE_SAMPLES):
    """What aging `codes` to any age starts from: (G's faces at the source ages for the `samples` z's near each
    code, as `aging_change` draws them; the gender reader's logits of the codes' own faces there, or None; those
    faces, the reconstructions that the change is moved from onto the photos)."""
    codes = np.asarray(codes, np.float32)
    source = age_conditions(source_ages)
    nearby = _nearby(codes, samples)
    drawn = draw(models.generator, nearby.reshape(-1, codes.shape[-1]), np.tile(source, (len(nearby), 1)))
    reconstructions = draw(models.generator, codes, source)
    gender = None if models.gender is None else models.gender.read(reconstructions)
    return drawn, gender, reconstructions


def _nearby(codes, samples):
    """The `samples` z's around each code (CHANGE_SPREAD apart, seeded, so the source and target draws meet the
    same ones); 0 samples: the codes themselves."""
    return neighbours(codes, samples, CHANGE_SPREAD) if samples else codes[None]


def _aging_step(models, codes, source_ages, target_age, strength, gender=None):
    """(source conditions, conditions aged by `strength`, how far each z moves to keep its gender at them);
    `gender`: the reader's logits of the codes' faces at the source, where already read."""
    source = age_conditions(source_ages)
    strength = np.reshape(np.asarray(strength, np.float32), (-1, 1))  # one for all, or one a face
    aged = source + strength * (age_conditions(np.full(len(source), target_age)) - source)
    gender_shift = 0.0 if models.gender is None else kept_gender_offsets(
        models.generator, models.gender, codes, source, aged, gender)[:, None] * models.gender.direction
    return source, aged, gender_shift


def regenerate_at(models, codes, source_ages, target_age, strength=1.0):
    """G(z, c_source + strength x (c_target - c_source)): the faces of `codes` at `target_age`. 1 is the target
    group itself, 0 the reconstruction, 2 goes on past the target as far again (the one-hot groups enter G
    linearly, so this is well defined); more than 1 makes up for a generator that under-ages. With the models'
    gender reader, z moves along its gender direction as far as keeps the face's gender (facegan.aging.gender)."""
    codes = np.asarray(codes, np.float32)
    _source, aged, gender_shift = _aging_step(models, codes, source_ages, target_age, strength)
    return draw(models.generator, codes + gender_shift, aged)


def aging_change(models, codes, source_ages, target_age, strength, samples=CHANGE_SAMPLES, start=None):
    """What aging changes in each face, G(z', target) - G(z', source), averaged over `samples` z' around its
    code (CHANGE_SPREAD apart; 0 samples: z itself), to be added to the photo so that its own detail (and so its
    identity) survives where the generator cannot draw it. With the models' gender reader, each z' at the target
    moves as far along the gender direction as its code's face needs to keep its gender. `start`: the
    `at_source` of these codes, the same for every target age, where already drawn."""
    codes = np.asarray(codes, np.float32)
    at_source_ages, gender, _reconstructions = start or at_source(models, codes, source_ages, samples)
    _source, aged, gender_shift = _aging_step(models, codes, source_ages, target_age, strength, gender)
    nearby = _nearby(codes, samples)
    count, faces = nearby.shape[:2]
    changes = (draw(models.generator, (nearby + gender_shift).reshape(count * faces, -1), np.tile(aged, (count, 1)))
               - at_source_ages)
    return changes.reshape(count, faces, *changes.shape[1:]).mean(axis=0)
