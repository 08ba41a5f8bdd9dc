"""Version checks of the adapters that touch segment-anything's and transformers' internals."""

from __future__ import annotations

import pytest

from ovhhir_core.errors import UserError
from ovhhir_core.tracking import compat, sam2_adapter, sam_adapter
from ovhhir_core.tracking.config import SamConfig, TrackerConfig


def test_installed_versions_are_tested_ones():
    assert sam_adapter.check_version() == compat.installed_version("segment-anything")
    assert sam2_adapter.check_version() == compat.installed_version("transformers")


@pytest.mark.parametrize("version", ["5.24.0", "5.24.3", "5.24.0.dev0+abc"])
def test_tested_release_prefixes_match(version):
    assert sam2_adapter.check_version(version) == version


@pytest.mark.parametrize(
    "adapter, version, tested",
    [(sam2_adapter, "5.30.1", "5.24"), (sam2_adapter, "5.2", "5.24"), (sam_adapter, "2.0", "1.0")],
)
def test_untested_version_is_refused_naming_tested_ones(monkeypatch, adapter, version, tested):
    monkeypatch.delenv(compat.ALLOW_ENV, raising=False)
    with pytest.raises(compat.UntestedVersionError) as err:
        adapter.check_version(version)
    assert isinstance(err.value, UserError)
    msg = str(err.value)
    assert adapter.DISTRIBUTION in msg and version in msg and f"tested: {tested}" in msg
    assert compat.ALLOW_ENV in msg


def test_escape_hatch_allows_an_untested_version(monkeypatch):
    monkeypatch.setenv(compat.ALLOW_ENV, "1")
    assert sam2_adapter.check_version("9.0.0") == "9.0.0"


def test_missing_distribution_is_a_user_error():
    with pytest.raises(compat.UntestedVersionError, match="not installed"):
        compat.require_tested("no-such-distribution-xyz", ("1.0",), "something")


def test_model_builders_check_before_building(monkeypatch):
    """An untested release stops the build with the message, before any model is made."""
    from ovhhir_core.tracking import sam, sam2

    monkeypatch.delenv(compat.ALLOW_ENV, raising=False)
    monkeypatch.setattr(compat, "installed_version", lambda dist: "0.1")
    with pytest.raises(compat.UntestedVersionError, match="segment-anything 0.1"):
        sam.build_sam(SamConfig(weights=None), "cpu")
    with pytest.raises(compat.UntestedVersionError, match="transformers 0.1"):
        sam2.build_tracker(TrackerConfig(weights=None), "cpu")
