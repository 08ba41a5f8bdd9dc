"""The official checkpoint formats, proven offline with random weights in the published layouts.

SAM v1 ``.pth`` state dicts from segment-anything's own builders (vit_b, vit_h) and
``save_pretrained`` folders with the published configs of SAM 2.1 hiera-tiny and -large, EdgeTAM,
ViTPose-B, ViT-B/16 and RT-DETR r50vd are loaded through the code path a download takes
(``--weights COMPONENT=PATH``; the Hugging Face cache layout and the URL download cache with
``HF_HUB_OFFLINE=1``), then one click and 4 tracked frames run with the ``small``, ``cpu`` and
``paper`` segmenters. The ``paper`` test is slow (SAM ViT-H is 2.5 GB and its 1024 px encode takes
minutes on a CPU; 5–6 of the module's 8 minutes on 2 cores): ``pytest -m slow`` runs it; the
rest runs by default.
"""

from __future__ import annotations

import dataclasses
import gc

import pytest
import torch
from hub_utils import lay_out_hf_cache, use_hub_cache
from safetensors import safe_open
from tracking_utils import PUBLISHED_EDGETAM, centre, make_clip
from transformers import EdgeTamVideoConfig, EdgeTamVideoModel

from ovhhir_core import hub
from ovhhir_core.config import load_preset
from ovhhir_core.tracking import TrackingSession, load_segmenters
from ovhhir_core.tracking.edgetam import published_config
from ovhhir_core.tracking.sam2 import HIERA_LARGE_ARCH
from ovhhir_core.weightfiles import WeightsFileError, sha256_of

W, H, N = 64, 48, 4


def _save_sam_v1(model_type: str, path):
    from segment_anything import sam_model_registry

    torch.manual_seed(0)
    torch.save(sam_model_registry[model_type](checkpoint=None).state_dict(), path)
    gc.collect()
    return path


def _save_sam2(folder, arch=None):
    from transformers import Sam2VideoModel

    from ovhhir_core.tracking.sam2 import local_processor, tracker_config

    torch.manual_seed(0)
    config = tracker_config(arch or {})
    model = Sam2VideoModel(config)
    model.save_pretrained(folder)
    local_processor(config).save_pretrained(folder)
    n = sum(p.numel() for p in model.parameters())
    del model
    gc.collect()
    return folder, n


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", N, W, H)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("weights")


@pytest.fixture
def offline_caches(monkeypatch, tmp_path):
    use_hub_cache(monkeypatch, tmp_path / "hub")
    monkeypatch.setenv("OVHHIR_CACHE", str(tmp_path / "ovhhir"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def _run(segs, clip):
    s = TrackingSession(segs, clip)
    mask = s.add_points(0, "person_1", [centre(0, 1, W, H)], [1])
    s.add_points(0, "person_2", [centre(0, 2, W, H)], [1])
    assert mask.shape == (H, W)
    assert sorted({f for f, _ in s.propagate()}) == list(range(N))


def _in_url_cache(monkeypatch, name: str, path, cache):
    """Put ``path`` where a download of ``name`` lands, with the table's checksum set to it."""
    spec = hub.PRETRAINED[name]
    target = cache / "ovhhir" / spec.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(path)
    fake = dataclasses.replace(spec, sha256=sha256_of(path), size_bytes=path.stat().st_size)
    monkeypatch.setitem(hub.PRETRAINED, name, fake)
    return target


def test_small_from_weights_flags(store, clip):
    sam = _save_sam_v1("vit_b", store / "sam_vit_b.pth")
    tracker, n = _save_sam2(store / "sam2.1-hiera-tiny")
    assert 38e6 < n < 40e6  # SAM 2.1 hiera-tiny: 38.9M
    preset = load_preset("small", {"sam": sam, "tracker": tracker})
    _run(load_segmenters(preset, "cpu"), clip)


@pytest.fixture
def load_reports(monkeypatch):
    """Every checkpoint load's report: ``{model class: (missing, unexpected, mismatched)}``."""
    import transformers.modeling_utils as modeling_utils

    reports: dict[str, tuple] = {}
    real = modeling_utils.log_state_dict_report

    def record(**kwargs):
        info = kwargs["loading_info"]
        reports[type(kwargs["model"]).__name__] = (
            sorted(info.missing_keys),
            sorted(info.unexpected_keys),
            sorted(info.mismatched_keys),
        )
        return real(**kwargs)

    monkeypatch.setattr(modeling_utils, "log_state_dict_report", record)
    return reports


def _assert_clean(reports):
    assert set(reports) == {"EdgeTamModel", "EdgeTamVideoModel"}
    for name, (missing, unexpected, mismatched) in reports.items():
        assert (name, missing, unexpected, mismatched) == (name, [], [], [])


def test_edgetam_config_is_the_published_one(published_edgetam):
    # read the way transformers reads the published file (architectures and dtype are written
    # from the model, not the config)
    published = EdgeTamVideoConfig.from_pretrained(PUBLISHED_EDGETAM).to_dict()
    ours = published_config().to_dict()
    for key in ("architectures", "dtype"):
        published.pop(key)
        ours.pop(key)
    assert ours == published
    with torch.device("meta"):
        stand_in = EdgeTamVideoModel(published_config())
    with safe_open(published_edgetam / "model.safetensors", "pt") as f:
        assert sorted(stand_in.state_dict()) == sorted(f.keys())


def test_cpu_from_published_files_by_flags(published_edgetam, clip, load_reports):
    folder = published_edgetam
    preset = load_preset("cpu", {"sam": folder, "tracker": folder})
    segs = load_segmenters(preset, "cpu")
    _assert_clean(load_reports)
    assert type(segs.sam).__name__ == "EdgeTamModel"
    assert segs.tracker.config.image_size == preset.tracker.input_size
    n = sum(p.numel() for p in segs.tracker.parameters())
    assert 13e6 < n < 15e6  # EdgeTAM: 13.9M
    _run(segs, clip)


def test_cpu_from_published_files_in_hf_cache_offline(
    published_edgetam, clip, offline_caches, load_reports
):
    lay_out_hf_cache(offline_caches / "hub", "yonigozlan/EdgeTAM-hf", published_edgetam)
    preset = load_preset("cpu")
    segs = load_segmenters(preset, "cpu")
    _assert_clean(load_reports)
    _run(segs, clip)


@pytest.mark.slow
def test_paper_from_download_caches_offline(store, clip, offline_caches, monkeypatch):
    sam = _save_sam_v1("vit_h", store / "sam_vit_h.pth")
    _in_url_cache(monkeypatch, "sam_vit_h", sam, offline_caches)
    tracker, n = _save_sam2(store / "sam2.1-hiera-large", HIERA_LARGE_ARCH)
    assert 220e6 < n < 230e6  # SAM 2.1 hiera-large: 224.4M
    lay_out_hf_cache(offline_caches / "hub", "facebook/sam2.1-hiera-large", tracker)
    _run(load_segmenters(load_preset("paper"), "cpu"), clip)
    (store / "sam_vit_h.pth").unlink()  # 2.5 GB
    gc.collect()


def test_encoders_and_person_detector_load(store, offline_caches):
    from transformers import (
        RTDetrConfig,
        RTDetrForObjectDetection,
        ViTConfig,
        ViTModel,
        VitPoseConfig,
        VitPoseForPoseEstimation,
    )

    from ovhhir_core.model.encoders import FrameEncoder

    torch.manual_seed(0)
    VitPoseForPoseEstimation(VitPoseConfig()).save_pretrained(store / "vitpose")
    ViTModel(ViTConfig(), add_pooling_layer=False).save_pretrained(store / "vit")
    lay_out_hf_cache(offline_caches / "hub", "google/vit-base-patch16-224-in21k", store / "vit")
    preset = load_preset("small", {"person_encoder": store / "vitpose"})
    person = FrameEncoder(preset.model.person_encoder, "person_encoder")
    background = FrameEncoder(preset.model.background_encoder, "background_encoder")
    assert (person.width, person.input_hw) == (768, (256, 192))
    assert (background.width, background.input_hw) == (768, (224, 224))
    assert person(torch.rand(1, 3, 256, 192)).shape == (1, 192, 768)
    RTDetrForObjectDetection(RTDetrConfig()).save_pretrained(store / "rtdetr")
    path = hub.resolve_weights("detector", None, str(store / "rtdetr"))
    detector = RTDetrForObjectDetection.from_pretrained(path)
    assert detector.config.backbone_config.model_type == "rt_detr_resnet"


def test_damaged_real_size_files_are_refused(store, offline_caches, monkeypatch):
    sam = store / "sam_vit_b.pth"
    if not sam.exists():
        _save_sam_v1("vit_b", sam)
    cut = store / "cut.pth"
    cut.write_bytes(sam.read_bytes()[: sam.stat().st_size // 2])
    preset = load_preset("small", {"sam": cut})
    with pytest.raises(WeightsFileError, match="truncated") as err:
        load_segmenters(preset, "cpu")
    assert str(cut) in str(err.value)
    target = _in_url_cache(monkeypatch, "sam_vit_b", sam, offline_caches)
    wrong = dataclasses.replace(hub.PRETRAINED["sam_vit_b"], sha256="0" * 64)
    monkeypatch.setitem(hub.PRETRAINED, "sam_vit_b", wrong)
    with pytest.raises(WeightsFileError, match="fails its checksum") as err:
        load_segmenters(load_preset("small"), "cpu")
    assert str(target) in str(err.value)
