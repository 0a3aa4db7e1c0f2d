"""`facegan evaluate`: its flags are checked before any work."""
import pytest

from facegan.cli import main


def test_evaluate_flags_are_checked_before_any_work(capsys, tmp_path):
    assert main(["evaluate", "--real", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nowhere'}: no such folder"
    assert main(["evaluate", "--real", str(tmp_path), "--n", "1"]) == 2
    assert "--n must be at least 2, not 1" in capsys.readouterr().err


def test_evaluate_needs_real_faces(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate"])
    assert exit_.value.code == 2
    assert "the following arguments are required: --real" in capsys.readouterr().err
