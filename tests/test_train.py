"""Training in-process on a tiny synthetic set (tiny preset, CPU): loss, checkpoints, resume,
feature cache vs on-line encoding, the library API (TrainConfig), and evaluation of the saved
checkpoint."""

from __future__ import annotations

import json
import os

import pytest
import torch
from safetensors.torch import load_file
from train_utils import train_argv

from ovhhir_core.commands import train as T
from ovhhir_core.config import load_preset
from ovhhir_core.data.hhirchat import load_dataset
from ovhhir_core.data.synthetic import make_dataset
from ovhhir_core.model import collate_features, load_clip, load_model
from ovhhir_core.training import TrainConfig, TrainError, train
from ovhhir_core.training.features import FeatureCache, SampleFeatures, feature_key
from ovhhir_core.training.state import STATE_FILE

CLASSES = ["Hugging", "Punching"]


@pytest.fixture(scope="module")
def preset4():
    """The tiny preset with 4 frames per stream instead of 16 (same code paths, 4x faster)."""
    preset = load_preset("tiny")
    preset.model.num_frames = 4
    return preset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    return make_dataset(root, n_per_class=2, classes=CLASSES, size=(96, 72), num_frames=8)


@pytest.fixture(scope="module")
def _args():
    def make(data, out, cache, *extra):
        flags = dict(preset="tiny", num_frames=4, device="cpu", batch_size=2, lr="1e-2", seed=0)
        return train_argv(data, out, cache, *extra, **flags, warmup_steps=0)

    return make


def _losses(out):
    return [json.loads(line) for line in (out / "losses.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory, _args):
    """One 4-step run with a checkpoint every 2 steps."""
    base = tmp_path_factory.mktemp("train")
    out = base / "run"
    rc = T.main(_args(data, out, base / "cache", "--max-steps", "4", "--save-every", "2"))
    assert rc == 0
    return out, base / "cache"


def _eval_loss(preset, checkpoint, data, cache_dir):
    """Deterministic (eval-mode) mean loss of a model over the whole set, from cached features."""
    model = load_model(preset.model, "cpu", torch.float32, checkpoint=checkpoint).eval()
    cache = FeatureCache(cache_dir)
    samples = load_dataset(data)
    feats = collate_features([cache.get(feature_key(s, preset.model)) for s in samples])
    convs = [[t.to_json() for t in s.conversations] for s in samples]
    with torch.no_grad():
        return float(model.training_loss(feats, convs))


def test_training_writes_checkpoints_log_and_curve(trained):
    out, cache = trained
    assert (out / "final" / "model.safetensors").is_file()
    steps = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert steps == ["step-0000002", "step-0000004"]
    assert (out / "checkpoints" / "step-0000004" / STATE_FILE).is_file()
    assert (out / "loss_curve.png").stat().st_size > 1000
    assert "step 4/4" in (out / "train.log").read_text()
    assert [h["step"] for h in _losses(out)] == [1, 2, 3, 4]
    assert len(list(cache.glob("shard-*.safetensors"))) >= 1


def test_training_lowers_the_loss(trained, data, preset4):
    out, cache = trained
    before = _eval_loss(preset4, None, data, cache)
    after = _eval_loss(preset4, out / "final", data, cache)
    assert after < before - 1e-3, (before, after)


def test_final_checkpoint_equals_last_step_checkpoint(trained):
    out, _ = trained
    final = load_file(out / "final" / "model.safetensors")
    last = load_file(out / "checkpoints" / "step-0000004" / "model.safetensors")
    assert final.keys() == last.keys()
    assert all(torch.equal(final[k], last[k]) for k in final)


def test_resume_continues_from_the_saved_step(trained, data, tmp_path, _args):
    ref_out, cache = trained
    out = tmp_path / "resumed"
    args = T.build_parser().parse_args(
        _args(data, out, cache, "--max-steps", "4", "--save-every", "2")
    )
    for ev in train(T.config_from_args(args)):  # interrupted right after the step-2 checkpoint
        if ev.kind == "checkpoint":
            assert ev.step == 2
            break
    assert not (out / "final").exists()
    assert T.main(_args(data, out, cache, "--max-steps", "4", "--save-every", "2", "--resume")) == 0
    assert [h["step"] for h in _losses(out)] == [1, 2, 3, 4]
    ref = _losses(ref_out)
    got = _losses(out)
    assert got[2]["loss"] == pytest.approx(ref[2]["loss"], abs=1e-6)
    assert got[3]["loss"] == pytest.approx(ref[3]["loss"], abs=1e-6)
    a = load_file(ref_out / "final" / "model.safetensors")
    b = load_file(out / "final" / "model.safetensors")
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_resume_without_checkpoint_is_a_user_error(data, tmp_path, capsys, _args):
    assert T.main(_args(data, tmp_path / "empty", tmp_path / "c", "--resume")) == 1
    assert "nothing to resume" in capsys.readouterr().err


def test_feature_cache_gives_the_same_loss_as_online_encoding(
    trained, data, tmp_path, _args, preset4
):
    ref_out, cache_dir = trained
    out = tmp_path / "online"
    assert T.main(_args(data, out, cache_dir, "--max-steps", "1", "--no-cache")) == 0
    assert _losses(out)[0]["loss"] == pytest.approx(_losses(ref_out)[0]["loss"], abs=1e-5)
    assert not (out / "feature_cache").exists()
    preset = preset4
    model = load_model(preset.model, "cpu", torch.float32).eval()
    cache = FeatureCache(cache_dir)
    s = load_dataset(data)[0]
    conv = [[t.to_json() for t in s.conversations]]
    cached = cache.get(feature_key(s, preset.model))
    online = model.extract_features(load_clip(s.streams, num_frames=preset.model.num_frames))
    assert SampleFeatures(model, preset.model, cache)(s).keys() == cached.keys()
    assert cached.keys() == online.keys()
    with torch.no_grad():
        a = model.training_loss(collate_features([cached]), conv)
        b = model.training_loss(collate_features([online]), conv)
    assert float(a) == pytest.approx(float(b), abs=1e-6)


def test_cache_key_changes_with_stream_file_and_encoder_config(data, preset4):
    preset = load_preset("tiny")
    preset.model.num_frames = 4
    s = load_dataset(data)[0]
    key = feature_key(s, preset.model)
    assert feature_key(s, preset.model) == key
    st = os.stat(s.p1)
    os.utime(s.p1, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    try:
        assert feature_key(s, preset.model) != key
    finally:
        os.utime(s.p1, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert feature_key(s, preset.model) == key
    preset.model.num_frames = 8
    assert feature_key(s, preset.model) != key
    preset.model.num_frames = 4
    preset.model.branch.num_query_tokens = 2  # the trainable part does not change features
    assert feature_key(s, preset.model) == key


def test_library_api_sets_the_frame_count_without_a_preset_file(data, tmp_path, preset4):
    cfg = TrainConfig(
        data=data,
        out=tmp_path / "run",
        preset=preset4,
        num_frames=2,
        device="cpu",
        batch_size=4,
        max_steps=1,
        warmup_steps=0,
        save_every=0,
    )
    events = list(train(cfg))
    assert [e.kind for e in events] == ["cache"] * 4 + ["step", "checkpoint", "done"]
    assert preset4.model.num_frames == 4  # the given preset is not changed
    two = load_preset("tiny")
    two.model.num_frames = 2
    sample = load_dataset(data)[0]
    feats = FeatureCache(tmp_path / "run" / "feature_cache").get(feature_key(sample, two.model))
    assert feats["person_1"].shape[0] == 2 and feats["background"].shape[0] == 2


@pytest.mark.parametrize(
    "change, flag",
    [
        ({"batch_size": 0}, "--batch-size must be at least 1"),
        ({"lr": 0.0}, "--lr must be a positive number"),
        ({"num_frames": 0}, "--num-frames must be at least 1"),
        ({"device": "cuda:1"}, "training picks devices through accelerate"),
    ],
)
def test_bad_settings_are_train_errors(change, flag, data, tmp_path):
    cfg = TrainConfig(data=data, out=tmp_path / "run", **{"device": "cpu", **change})
    with pytest.raises(TrainError, match=flag):
        next(train(cfg))
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def preset4_file(tmp_path_factory):
    """A preset file that extends tiny with 4 frames (``evaluate`` has no --num-frames)."""
    path = tmp_path_factory.mktemp("preset") / "tiny4.json"
    path.write_text(json.dumps({"extend": "tiny", "model": {"num_frames": 4}}))
    return path


def test_evaluate_loads_the_trained_checkpoint(trained, data, tmp_path, preset4_file):
    from ovhhir_core.commands import evaluate as evaluate_cli

    out, cache = trained
    rc = evaluate_cli.main(
        [
            "--data",
            str(data),
            "--checkpoint",
            str(out / "final"),
            "--preset",
            str(preset4_file),
            "--cache-dir",
            str(cache),
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "eval"),
            "--seeds",
            "0",
            "1",
            "--max-new-tokens",
            "6",
        ]
    )
    assert rc == 0
    res = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert res["meta"]["checkpoint"] == str(out / "final")
    assert res["num_samples_by_source"] == {"synthetic": 4, "all": 4}
    assert -1 <= res["cosine"]["all"]["mean"] <= 1 and res["cosine"]["all"]["n"] == 4
    assert res["prompt_classifier"]["macro_f1"]["synthetic"]["n"] == 2  # two seeds
    assert all(len(s["prompt_answers"]) == 2 for s in res["samples"])
    assert {s["label"] for s in res["samples"]} == set(CLASSES)
    md = (tmp_path / "eval" / "results.md").read_text()
    assert "| synthetic | 4 |" in md
    for fig in ("confusion_matrix.png", "per_class_f1.png", "similarity_histogram.png"):
        assert (tmp_path / "eval" / fig).stat().st_size > 1000
