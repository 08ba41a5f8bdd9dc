"""EdgeTAM: the published config, click masks, tracking, one folder for both components."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tracking_utils import centre, edgetam_micro_preset, make_clip, micro_preset

from ovhhir_core.config import load_preset
from ovhhir_core.tracking import TrackingSession, load_segmenters
from ovhhir_core.tracking.edgetam import published_config
from ovhhir_core.weights.hub import WeightsFileError

W, H, N = 64, 48, 5


@pytest.fixture(scope="module")
def segs():
    torch.manual_seed(0)
    return load_segmenters(edgetam_micro_preset(), "cpu")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", N, W, H)


def test_published_config_is_repvit_not_hiera():
    cfg = published_config()
    vision = cfg.vision_config
    assert vision.model_type == "edgetam_vision_model"
    assert vision.backbone_config.architecture == "repvit_m1"  # as published, tag in pretrained_cfg
    assert vision.backbone_config.pretrained_cfg["hf_hub_id"] == "timm/repvit_m1.dist_in1k"
    assert vision.backbone_channel_list == [384, 192, 96, 48]
    assert cfg.image_size == 1024
    assert published_config({"image_size": 512}).image_size == 512


def test_cpu_preset_names_edgetam_for_both_components():
    p = load_preset("cpu")
    assert (p.sam.kind, p.tracker.kind) == ("edgetam", "edgetam")
    assert p.sam.weights == p.tracker.weights == "edgetam"


def test_click_then_track_two_people(segs, clip):
    assert type(segs.sam).__name__ == "EdgeTamModel"
    assert type(segs.tracker).__name__ == "EdgeTamVideoModel"
    s = TrackingSession(segs, clip)
    m1 = s.add_points(1, "person_1", [centre(1, 1, W, H)], [1])
    assert m1.shape == (H, W) and m1.dtype == bool
    refined = s.add_points(1, "person_1", [(1, 1)], [0])  # refines with the low-res logits
    assert refined.shape == (H, W)
    s.add_box(1, "person_2", (30, 10, 60, 40))
    assert s.encode_count == 1  # one image encode for three prompts on one frame
    frames = [f for f, _ in s.propagate()]
    assert sorted(set(frames)) == list(range(N)) and s.propagation_complete
    for f in range(N):
        assert s.labels[f].shape == (H, W) and set(np.unique(s.labels[f])) <= {0, 1, 2}


def test_one_edgetam_folder_serves_sam_and_tracker(segs, tmp_path):
    """--weights sam=DIR --weights tracker=DIR with one saved EdgeTAM video checkpoint."""
    folder = tmp_path / "edgetam"
    segs.tracker.save_pretrained(folder)
    preset = edgetam_micro_preset().with_local_paths({"sam": folder, "tracker": folder})
    preset.sam.weights = preset.tracker.weights = "edgetam"
    loaded = load_segmenters(preset, "cpu")
    video = segs.tracker.state_dict()
    image = loaded.sam.state_dict()
    assert set(image) <= set(video)
    for name, tensor in image.items():
        assert torch.equal(tensor, video[name]), name
    for name, tensor in loaded.tracker.state_dict().items():
        assert torch.equal(tensor, video[name]), name


def test_a_sam2_folder_given_as_edgetam_is_refused(tmp_path):
    torch.manual_seed(0)
    sam2 = load_segmenters(micro_preset(), "cpu").tracker
    sam2.save_pretrained(tmp_path / "sam2")
    preset = edgetam_micro_preset().with_local_paths({"sam": tmp_path / "sam2"})
    preset.sam.weights = "edgetam"
    with pytest.raises(WeightsFileError, match="sam2_video.*edgetam"):
        load_segmenters(preset, "cpu")


def test_fused_backbone_gives_the_same_features_with_fewer_layers():
    """The tracker and click model run with RepViT re-parameterised: batch norms with real
    statistics folded into the convolutions, branches merged; the features must not change."""
    import copy

    from transformers import EdgeTamVideoModel

    from ovhhir_core.tracking.edgetam import fused
    from ovhhir_core.tracking.sam2 import sized

    torch.manual_seed(0)
    model = EdgeTamVideoModel(sized(published_config(), 128)).eval()
    for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.running_mean.normal_(0, 0.2)  # as trained weights have: folding must use them
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.normal_(0, 0.2)
    pixels = torch.randn(1, 3, 128, 128)
    with torch.inference_mode():
        before = model.get_image_features(pixels)
        after = fused(copy.deepcopy(model)).get_image_features(pixels)
    norms = lambda m: sum(isinstance(x, torch.nn.BatchNorm2d) for x in m.modules())  # noqa: E731
    assert norms(model) > 50 and norms(fused(copy.deepcopy(model))) == 0
    assert torch.allclose(before.last_hidden_state, after.last_hidden_state, atol=1e-4, rtol=1e-4)
    for a, b in zip(before.fpn_hidden_states, after.fpn_hidden_states, strict=True):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


def test_loaded_models_run_fused(segs):
    for model in (segs.sam, segs.tracker):
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
