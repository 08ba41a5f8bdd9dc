"""build-dataset --describer zeroshot: soft labels written by a video-LLM that watches each clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from ovhhir_core.answering import GenerationConfig
from ovhhir_core.build_cli import ClipDescriber
from ovhhir_core.config import load_preset
from ovhhir_core.data.build import BuildOptions, DatasetBuilder
from ovhhir_core.data.hhirchat import load_dataset
from ovhhir_core.data.synthetic import render_clip, write_clip
from ovhhir_core.zeroshot import load_zeroshot_answerer


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("zs_src")
    clip = render_clip("Hugging", seed=0, size=(96, 64), num_frames=6, fps=6)
    write_clip(clip, root / "Hugging", "clip0")
    return root


class Recorder(ClipDescriber):
    """The zero-shot describer, remembering the clips it was shown."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def __call__(self, cat, reference, clip):
        conversation = self.answerer.open(clip, use_facts=False)
        text = super().__call__(cat, reference, clip)
        self.seen.append((clip, conversation.sampled, text))
        return text


def test_zeroshot_describer_watches_the_built_clip(source, tmp_path):
    answerer = load_zeroshot_answerer(load_preset("tiny"))
    gen = GenerationConfig(temperature=0, max_new_tokens=10, repetition_penalty=1.0)
    describer = Recorder(answerer, gen)
    out = tmp_path / "d.jsonl"
    list(DatasetBuilder(BuildOptions(source, out), describer=describer).run())
    sample = load_dataset(out)[0]
    # the clip given to the model is the built sample's own streams, with its label maps
    clip, sampled, text = describer.seen[0]
    assert clip.streams["person_1"].name == Path(sample.p1).name
    assert clip.masks is not None and sampled.labels.max() == 2
    assert (sampled.labels == 1).any() and (sampled.labels == 2).any()
    # provenance recorded with the sample: which model wrote the label, and that it is random
    how = sample.extra["soft_label_from"]
    assert how.startswith("zeroshot: ") and "NOT GROUNDED" in how
    # the label is the model's answer about that clip (random weights, greedy: fixed text)
    assert text and sample.answer == text


def test_cli_describer_zeroshot_on_a_preset_without_one_says_so(source, tmp_path, capsys):
    from ovhhir_core.cli import main

    out = tmp_path / "cli.jsonl"
    args = ["build-dataset", str(source), "--out", str(out), "--no-progress"]
    assert main([*args, "--describer", "zeroshot:offline"]) != 0
    err = capsys.readouterr().err
    assert "zeroshot" in err and "--weights zeroshot=PATH" in err
