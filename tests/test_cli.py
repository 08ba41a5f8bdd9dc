"""The CLI entry point: help, info, and user errors without tracebacks (every command)."""

import subprocess
import sys

import pytest

from ovhhir_core.commands import cli
from ovhhir_core.data.hhirchat import load_dataset
from ovhhir_core.data.synthetic import make_dataset


def test_info_runs_and_lists_presets(capsys):
    from ovhhir_core.config import list_presets
    from ovhhir_core.device import resolve_device

    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    for name in ("tiny", "offline", "small", "paper", *list_presets()):
        assert f"preset {name}:" in out
    assert f"device: {resolve_device('auto')} (auto picks" in out  # cpu here, cuda on a GPU host
    assert cli.main(["info", "--device", "cpu"]) == 0
    assert "device: cpu (auto picks" in capsys.readouterr().out
    assert "smollm2-135m-instruct-gguf" in out and "present" in out


def test_user_error_is_one_line(capsys):
    assert cli.main(["info", "--weights", "nonsense"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --weights expects COMPONENT=PATH")
    assert "Traceback" not in err


def test_module_entry_point_help():
    out = subprocess.run(
        [sys.executable, "-m", "ovhhir_core", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "info" in out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A one-clip HHIRChat set, a malformed and an empty dataset file, a label map that is not
    JSON."""
    root = tmp_path_factory.mktemp("cli")
    data = make_dataset(
        root / "synth", n_per_class=1, classes=["Hugging"], size=(64, 48), num_frames=8
    )
    (root / "bad.json").write_text("{not json")
    (root / "empty.json").write_text("[]")
    return {"root": root, "data": data, "video": load_dataset(data)[0].p1}


BAD_DEVICE = "cuda:7"  # no such device on a CPU host, nor on a host with fewer than 8 GPUs

# Each command with a handful of user mistakes: missing file, bad numbers, bad device, unknown
# preset, malformed dataset. {data} {video} {root} are filled from the fixture.
CASES = {
    "info": [["--device", "banana"], ["--device", BAD_DEVICE], ["--weights", "llm"]],
    "track": [
        ["{root}/missing.mp4", "--p1", "1,2", "--p2", "3,4", "--out", "{root}/t"],
        ["{video}", "--p1", "1,x", "--p2", "3,4", "--out", "{root}/t"],
        ["{video}", "--p1", "1,2", "--p2", "3,4", "--out", "{root}/t", "--device", BAD_DEVICE],
        ["{video}", "--p1", "1,2", "--p2", "3,4", "--out", "{root}/t", "--preset", "nope"],
    ],
    "people": [
        ["{root}/missing.mp4"],
        ["{video}", "--frame", "x"],
        ["{video}", "--frame", "999", "--device", "cpu"],
        ["{video}", "--device", BAD_DEVICE],
        ["{video}", "--preset", "nope"],
    ],
    "describe": [
        ["--p1", "{root}/missing.mp4", "--p2", "{video}", "--device", "cpu"],
        ["--p1", "{video}", "--p2", "{video}", "--num-frames", "0"],
        ["--p1", "{video}", "--p2", "{video}", "--device", "banana"],
        ["--p1", "{video}", "--p2", "{video}", "--dtype", "float8"],
    ],
    "chat": [["--device", BAD_DEVICE], ["--preset", "{root}/missing.json"]],
    "build-dataset": [
        ["{root}/missing", "--out", "{root}/b.jsonl"],
        ["{root}/synth", "--out", "{root}/b.jsonl", "--shard", "5/4"],
        ["{root}/synth", "--out", "{root}/b.jsonl", "--fill", "300"],
        ["{root}/synth", "--out", "{root}/b.jsonl", "--label-map", "{root}/bad.json"],
        ["{root}/synth", "--out", "{root}/b.jsonl", "--device", "banana"],
    ],
    "train": [
        ["--data", "{root}/bad.json", "--out", "{root}/r", "--device", "cpu"],
        ["--data", "{root}/empty.json", "--out", "{root}/r", "--device", "cpu"],
        ["--data", "{root}/missing.json", "--out", "{root}/r", "--device", "cpu"],
        ["--data", "{data}", "--out", "{root}/r", "--batch-size", "0"],
        ["--data", "{data}", "--out", "{root}/r", "--epochs", "two"],
        ["--data", "{data}", "--out", "{root}/r", "--device", BAD_DEVICE],
        ["--data", "{data}", "--out", "{root}/r", "--device", "cpu", "--resume"],
        ["--data", "{data}", "--out", "{root}/r", "--preset", "nope"],
    ],
    "evaluate": [
        ["--data", "{root}/bad.json", "--out", "{root}/e", "--device", "cpu"],
        ["--data", "{root}/empty.json", "--out", "{root}/e", "--device", "cpu"],
        ["--data", "{root}/missing.json", "--out", "{root}/e", "--device", "cpu"],
        ["--data", "{data}", "--out", "{root}/e", "--max-samples", "0"],
        ["--data", "{data}", "--out", "{root}/e", "--device", "banana"],
        ["--data", "{data}", "--out", "{root}/e", "--preset", "nope"],
    ],
    "timeline": [
        ["--masks", "{root}/missing.npz", "--fps", "10", "--out", "{root}/tl"],
        ["--masks", "{root}/bad.json", "--fps", "10", "--out", "{root}/tl"],
        ["--masks", "{root}/bad.json", "--fps", "x", "--out", "{root}/tl"],
        ["--masks", "{root}/bad.json", "--fps", "-3", "--out", "{root}/tl"],
        ["--masks", "{root}/bad.json", "--video", "{root}/missing.mp4", "--out", "{root}/tl"],
    ],
}


def test_every_command_is_listed_here():
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == set(CASES)


@pytest.mark.parametrize(
    "argv", [[cmd, *args] for cmd, cases in CASES.items() for args in cases], ids=" ".join
)
def test_user_mistakes_give_one_error_line(argv, files, capsys):
    argv = [a.format(**files) for a in argv]
    assert cli.main(argv) in (1, 2)  # an uncaught exception fails this test with its traceback
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1, err
    assert "Traceback" not in err


def test_bad_device_from_a_shell_is_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "ovhhir_core", "info", "--device", "banana"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: unknown device 'banana'; use auto, cpu, cuda, cuda:N (a GPU index) or mps"
    ]
