"""A model folder: which folder --checkpoint names (or, without one, the newest run or the shipped model), where each
of its files lives, its kind from config.json, and how each file is described."""
import json
import os

import pytest

from facegan import FaceganError
from facegan.io import model_folder


def saved_run(run, epoch=1, step=0, files=(model_folder.GENERATOR_FILE, model_folder.DISCRIMINATOR_FILE),
              config=None):
    """A run folder as training leaves it, the model files empty (a ModelFolder only finds files)."""
    checkpoint = run / model_folder.CHECKPOINT
    checkpoint.mkdir(parents=True)
    for name in files:
        (checkpoint / name).write_bytes(b"")
    (checkpoint / model_folder.STATE_FILE).write_text(json.dumps({"epoch": epoch, "step": step}))
    if config is not None:
        (run / model_folder.CONFIG_FILE).write_text(json.dumps(config))
    return run


def test_a_run_folder_or_a_generator_in_it_is_one_folder_and_each_file_has_its_place(tmp_path):
    run = saved_run(tmp_path / "run", files=("generator.h5", "generator_ema.h5", "discriminator.h5"))
    folder = model_folder.ModelFolder(str(run))
    assert folder.generator == str(run / "checkpoint" / model_folder.EMA_GENERATOR_FILE), "the average first"
    assert folder.discriminator == str(run / "checkpoint" / model_folder.DISCRIMINATOR_FILE)
    assert (folder.encoder, folder.gender_reader, folder.strength_table) == tuple(
        str(run / name) for name in (model_folder.ENCODER_FILE, model_folder.READER_FILE, model_folder.TABLE_FILE))
    raw = model_folder.ModelFolder(str(run / "checkpoint" / "generator.h5"))
    assert raw.generator == str(run / "checkpoint" / "generator.h5") and raw.encoder == folder.encoder
    os.rename(run / "checkpoint", run / "checkpoint.old")  # a kill between the two renames of a checkpoint
    assert model_folder.ModelFolder(str(run)).encoder == folder.encoder
    flat = tmp_path / "shipped"
    flat.mkdir()
    (flat / "generator.h5").write_bytes(b"")
    assert model_folder.ModelFolder(str(flat)).encoder == str(flat / model_folder.ENCODER_FILE)


def test_saved_models_name_each_file_of_a_checkpoint_or_snapshot_and_the_average_only_when_there(tmp_path):
    run = saved_run(tmp_path / "run", files=("generator.h5", "discriminator.h5"))
    saved = model_folder.checkpoint_models(str(run))
    assert (saved.raw_generator_path, saved.discriminator_path, saved.path("encoder")) == tuple(
        str(run / "checkpoint" / name) for name in ("generator.h5", "discriminator.h5", "encoder.h5"))
    assert saved.average_generator_path is None and saved.sampled_generator_path == saved.raw_generator_path
    (run / "checkpoint" / "generator_ema.h5").write_bytes(b"")
    assert saved.average_generator_path == saved.sampled_generator_path == str(run / "checkpoint" / "generator_ema.h5")
    assert model_folder.checkpoint_models(str(tmp_path / "nothing")) is None
    snapshot = model_folder.SavedModels(model_folder.snapshot_dir(str(run), 7))
    assert snapshot.raw_generator_path == str(run / "snapshots" / "epoch_007" / "generator.h5")
    assert snapshot.average_generator_path is None and snapshot.sampled_generator_path is None


def test_init_from_needs_a_generator_and_a_discriminator_and_says_which_is_missing(tmp_path):
    folder = model_folder.SavedModels(str(tmp_path))
    with pytest.raises(FaceganError, match=f"^{tmp_path}: no generator.h5 here \\(--init-from needs a folder with "
                                           "generator.h5 and discriminator.h5\\)$"):
        folder.check_init_from()
    (tmp_path / "generator.h5").write_bytes(b"")
    with pytest.raises(FaceganError, match=f"^{tmp_path}: no discriminator.h5 here"):
        folder.check_init_from()
    (tmp_path / "discriminator.h5").write_bytes(b"")
    folder.check_init_from()


def test_the_kind_comes_from_the_runs_config_not_from_the_files_present(tmp_path):
    vae = saved_run(tmp_path / "vae", files=("generator.h5", "encoder.h5"), config={"model": "vae"})
    assert model_folder.ModelFolder(str(vae)).is_vae
    assert model_folder.ModelFolder(str(vae / "checkpoint" / "generator.h5")).is_vae
    dcgan = saved_run(tmp_path / "dcgan", files=("generator.h5", "encoder.h5"), config={"model": "dcgan"})
    assert not model_folder.ModelFolder(str(dcgan)).is_vae


def test_a_missing_folder_or_generator_or_encoder_is_one_line_that_says_what_to_do(tmp_path):
    with pytest.raises(FaceganError, match="nothing: not a run folder, nor a generator .h5"):
        model_folder.ModelFolder(str(tmp_path / "nothing"))
    with pytest.raises(FaceganError, match="no generator.h5 in this folder; train one with `python train.py`"):
        model_folder.ModelFolder(str(tmp_path))
    (tmp_path / "generator.h5").write_bytes(b"")
    folder = model_folder.ModelFolder(str(tmp_path / "generator.h5"))
    assert folder.load_encoder(required=False) is None
    with pytest.raises(FaceganError, match=f"{model_folder.ENCODER_FILE}: missing; train it once with `facegan "
                                           f"train-encoder --checkpoint {tmp_path}`"):
        folder.load_encoder(required=True)
    assert not os.path.exists(tmp_path / model_folder.ENCODER_FILE)


def test_find_takes_the_checkpoint_else_the_newest_run_when_asked_else_the_shipped_model(tmp_path, monkeypatch):
    run = saved_run(tmp_path / "runs" / "one")
    expected = str(run / "checkpoint" / "generator.h5")
    assert model_folder.find(str(run)).generator == expected and not model_folder.find(str(run)).newest
    newest = model_folder.find(None, newest_run_first=True, root=str(tmp_path / "runs"))
    assert newest.generator == expected and newest.newest
    assert model_folder.find(None, conditional=True, newest_run_first=True, root=str(tmp_path / "runs")).generator \
        == os.path.join(model_folder.SHIPPED_AGING_DIR, model_folder.GENERATOR_FILE), "no age-conditional run"
    monkeypatch.setattr(model_folder, "SHIPPED_DIR", str(run / "checkpoint"))  # no run of yours: the shipped one
    assert model_folder.find(None, newest_run_first=True, root=str(tmp_path / "nothing")).generator == expected
    monkeypatch.setattr(model_folder, "SHIPPED_DIR", str(tmp_path / "nothing shipped"))
    with pytest.raises(FaceganError, match="train one first with `python train.py`"):
        model_folder.find(None, newest_run_first=True, root=str(tmp_path / "nothing"))


def test_the_shipped_model_comes_before_your_runs_unless_asked_and_each_is_described(tmp_path, monkeypatch):
    saved_run(tmp_path / "runs" / "one", epoch=5)
    monkeypatch.chdir(tmp_path)  # outside the clone: a shipped model is named by its full path
    shipped = model_folder.find(None, root="runs").generator
    assert shipped == model_folder.SavedModels(model_folder.SHIPPED_DIR).sampled_generator_path, "the shipped one"
    assert model_folder.describe(shipped) == f"{shipped} (shipped)"
    saved = model_folder.find(None, newest_run_first=True, root="runs").generator
    assert model_folder.describe(saved) == os.path.join("runs", "one", "checkpoint", "generator.h5") + \
        " (saved after epoch 5)"
    (tmp_path / "runs" / "one" / "checkpoint" / "state.json").write_text(json.dumps({"epoch": 5, "step": 30}))
    assert model_folder.describe("runs//one/checkpoint/generator.h5").endswith("(saved at epoch 6, step 30)")
    assert model_folder.describe("runs//one/checkpoint/generator.h5").startswith("runs/one/checkpoint")
