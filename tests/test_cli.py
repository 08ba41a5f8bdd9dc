"""The CLI entry point: help, info, and user errors without tracebacks."""

import subprocess
import sys

from ovhhir_core import cli


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
