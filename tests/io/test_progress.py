"""Progress in a log: a line every LOG_EVERY seconds with the time left, one at the end; Keras' bar on a terminal."""
import sys

import keras
import pytest

from facegan.gan import training
from facegan.io import progress

from tests.gan.test_training import config


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_log_gets_a_line_a_minute_with_the_time_left_and_the_means_and_one_at_the_end(monkeypatch, capsys):
    clock = Clock()
    monkeypatch.setattr(progress.time, "monotonic", clock)
    lines = progress.bar(10, "step", stateful_metrics=["img/s"])
    assert isinstance(lines, progress.LogLines), "pytest's captured stdout is not a terminal"
    for done in range(1, 11):
        clock.now += 15  # 15 s a step
        lines.update(done, [("loss", float(done)), ("img/s", 100.0 + done)])
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["4/10 steps, 1:30 left, loss 2.5, img/s 104",  # after 60 s: 6 steps of 15 s left
                       "8/10 steps, 0:30 left, loss 4.5, img/s 108",
                       "10/10 steps, 2:30 taken, loss 5.5, img/s 110"]


def test_a_terminal_gets_keras_bar_and_clock_reads_hours():
    assert progress.clock(41) == "0:41" and progress.clock(725) == "12:05" and progress.clock(10935) == "3:02:15"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
        assert isinstance(progress.bar(5), keras.utils.Progbar)


def test_training_written_to_a_log_says_how_far_each_epoch_has_got(face_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)
    training.train(config(face_folder, epochs=1), str(tmp_path / "run"))
    printed = capsys.readouterr().out
    assert "1/3 steps, " in printed and " left, " in printed and "3/3 steps, " in printed and " taken, " in printed
    assert "\x1b[" not in printed, "no colour codes in a log"
