"""Progress with the time left, on a terminal and in a log. On a terminal: Keras' bar, redrawn in place. Written to
a file (`nohup python train.py ... > log`): a plain line every LOG_EVERY seconds and one at the end, so that the log
says how far the work has got without a line per step or the bar's colour codes."""
import sys
import time

LOG_EVERY = 60.0  # seconds between lines in a log


def bar(total, unit="step", stateful_metrics=()):
    """Something with update(done, [(name, value), ...]) for `total` units of work. Metrics are shown as their mean
    since the start, except `stateful_metrics`, shown as last given (a rate)."""
    if sys.stdout.isatty():
        import keras  # imported late: a cache hit in facegan.io.data should not pay for it

        return keras.utils.Progbar(total, unit_name=unit, stateful_metrics=list(stateful_metrics))
    return LogLines(total, unit, stateful_metrics)


def clock(seconds):
    """0:41, 12:05, 3:02:15."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class LogLines:
    """The log's progress: `bar` off a terminal."""

    def __init__(self, total, unit="step", stateful_metrics=(), every=None):
        self.total, self.unit, self.stateful = total, unit, set(stateful_metrics)
        self.every = LOG_EVERY if every is None else every
        self.started = self.said = time.monotonic()
        self.sums, self.counts = {}, {}

    def update(self, done, values=None):
        for name, value in values or []:
            if name in self.stateful:  # shown as last given
                self.sums[name], self.counts[name] = float(value), 1
            else:  # shown as the mean since the start
                self.sums[name] = self.sums.get(name, 0.0) + float(value)
                self.counts[name] = self.counts.get(name, 0) + 1
        now, finished = time.monotonic(), done >= self.total
        if not finished and now - self.said < self.every:
            return
        self.said = now
        taken = now - self.started
        timing = f"{clock(taken)} taken" if finished else f"{clock(taken / max(done, 1) * (self.total - done))} left"
        shown = "".join(f", {name} {self.sums[name] / self.counts[name]:.4g}" for name in self.sums)
        print(f"{done}/{self.total} {self.unit}s, {timing}{shown}", flush=True)
