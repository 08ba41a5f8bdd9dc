"""The packaged taxonomy is valid, and the loader rejects invalid files."""

from __future__ import annotations

import copy
import json
import random

import numpy as np
import pytest

from ovhhir_core.data.taxonomy import (
    TAXONOMY_PATH,
    TaxonomyError,
    load_taxonomy,
    parse_taxonomy,
)

PAPER_DATASETS = {
    "Hollywood2",
    "UT-Interaction",
    "TV Human Interaction",
    "SBU Kinect Interaction",
    "JPL-Interaction",
    "ShakeFive2",
    "Kinetics",
    "NTU RGB+D 120",
    "AIR-Act2Act",
    "SportsHHI",
}


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


@pytest.fixture(scope="module")
def raw():
    return json.loads(TAXONOMY_PATH.read_text())


def test_size_and_uniqueness(tax):
    assert len(tax.categories) >= 100
    names = tax.class_names(seen=True, unseen=True)
    assert len(names) == len(set(n.lower() for n in names))
    assert len({c.name for c in tax.categories + tax.unseen}) == len(names)
    assert all(n.isalnum() and n[0].isupper() for n in names)


def test_every_category_has_sources_and_soft_labels(tax):
    for c in tax.categories:
        assert c.sources, c.name
        assert set(c.sources) <= set(tax.datasets)
        assert len(c.soft_labels) >= 3 and len(set(c.soft_labels)) == len(c.soft_labels)
        # soft labels are sentences, not the class name
        assert all(len(s.split()) >= 6 and s.endswith(".") for s in c.soft_labels), c.name
    for c in tax.unseen:
        assert len(c.soft_labels) >= 3 and (c.sources or c.note)


def test_every_paper_dataset_described_and_used(tax):
    assert PAPER_DATASETS <= set(tax.datasets)
    used = {ds for c in tax.categories for ds in c.sources}
    assert PAPER_DATASETS <= used
    for name in PAPER_DATASETS:
        info = tax.datasets[name]
        assert info.citation and info.status and info.url


def test_sportshhi_names_not_invented(tax):
    assert tax.datasets["SportsHHI"].status == "unconfirmed"
    rows = [c for c in tax.categories if "SportsHHI" in c.sources]
    assert rows and all(c.sources["SportsHHI"] == [] for c in rows)
    assert all("SportsHHI" in c.unconfirmed_sources and c.judgement for c in rows)


def test_unseen_disjoint_from_seen(tax):
    unseen = tax.class_names(seen=False, unseen=True)
    assert len(unseen) == 6
    assert {"Bowing", "Whispering", "ForeheadKissing", "Lifting", "Taunting"} <= set(unseen)
    assert not set(unseen) & set(tax.class_names())
    assert tax.class_names(seen=True, unseen=True) == tax.class_names() + unseen
    seen_labels = {
        (ds, lab.lower()) for c in tax.categories for ds, ls in c.sources.items() for lab in ls
    }
    for c in tax.unseen:
        assert c.unseen and not (
            {(ds, lab.lower()) for ds, ls in c.sources.items() for lab in ls} & seen_labels
        )


@pytest.mark.parametrize(
    "dataset, label, cls",
    [
        ("UT-Interaction", "Punching", "Punching"),
        ("UT", "shake-hands", "Handshaking"),
        ("UT", 3, "Pointing"),
        ("SBU", "8", "HandingOver"),
        ("sbu", "ShakingHands", "Handshaking"),
        ("NTU RGB+D 120", "A058", "Handshaking"),
        ("ntu", "A58", "Handshaking"),
        ("NTU", "walking apart from each other", "Departing"),
        ("AIR-Act2Act", "A005", "Handshaking"),
        ("Hollywood2", "HugPerson", "Hugging"),
        ("TVHI", "highFive", "HighFiving"),
        ("JPL", "point-converse", "Conversing"),
        ("ShakeFive2", "FIST_BUMP", "FistBumping"),
        ("Kinetics", "Hugging (not baby)", "Hugging"),
        ("k700", "high fiving", "HighFiving"),
        ("SportsHHI", "basketball - pass", "BasketballPassing"),
    ],
)
def test_map_label(tax, dataset, label, cls):
    assert tax.map_label(dataset, label).class_name == cls


def test_map_label_unknown_and_unseen(tax):
    assert tax.map_label("UT", "juggling") is None
    assert tax.map_label("SportsHHI", "basketball - teleport") is None
    whisper = tax.map_label("NTU", "A117")
    assert whisper.class_name == "Whispering" and whisper.unseen
    with pytest.raises(TaxonomyError, match="unknown dataset"):
        tax.map_label("NoSuchSet", "x")
    assert tax.map_label("UT", "juggling", overrides={"juggling": "Waving"}).class_name == "Waving"


def test_by_class_find_and_soft_label(tax):
    assert tax.by_class("punching.").class_name == "Punching"
    assert tax.find("handshake").class_name == "Handshaking"
    assert tax.find("nothing at all") is None
    with pytest.raises(TaxonomyError, match="unknown class"):
        tax.by_class("Juggling")
    labels = tax.by_class("Punching").soft_labels
    drawn = {tax.soft_label("Punching", random.Random(s)) for s in range(40)}
    assert drawn <= set(labels) and len(drawn) > 1
    assert tax.soft_label("Punching", np.random.default_rng(3)) in labels
    assert tax.soft_label("Punching", 5) == tax.soft_label("Punching", 5)
    assert tax.soft_label("Punching") == labels[0]


def _broken(raw, fn):
    data = copy.deepcopy(raw)
    fn(data)
    return data


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda d: d["categories"].append(copy.deepcopy(d["categories"][0])), "duplicate"),
        (lambda d: d["categories"][1].update({"class": "Handshaking"}), "duplicate class_name"),
        (lambda d: d["categories"][0].update({"sources": {}}), "at least one source"),
        (lambda d: d["categories"][0].update({"soft_labels": ["a", "b"]}), "soft_labels"),
        (lambda d: d["categories"][0].update({"soft_labels": ["a a", "A a", "b"]}), "differ"),
        (lambda d: d["categories"][0].update({"class": "two words"}), "CamelCase"),
        (lambda d: d["categories"][0]["sources"].update({"Nowhere": ["x"]}), "not described"),
        (lambda d: d["categories"][0]["sources"].update({"Kinetics": []}), "is empty"),
        (
            lambda d: d["categories"][1]["sources"].update({"UT-Interaction": ["Punching"]}),
            "mapped to both",
        ),
        (lambda d: d["unseen"].append(copy.deepcopy(d["categories"][2])), "duplicate"),
        (lambda d: d.pop("datasets"), "datasets"),
    ],
)
def test_validation_rejects_bad_files(raw, mutate, needle):
    with pytest.raises(TaxonomyError, match=needle):
        parse_taxonomy(_broken(raw, mutate))


def test_load_from_path_and_bad_json(tmp_path, raw):
    good = tmp_path / "t.json"
    good.write_text(json.dumps(raw))
    assert len(load_taxonomy(good).categories) == len(raw["categories"])
    bad = tmp_path / "b.json"
    bad.write_text("{")
    with pytest.raises(TaxonomyError, match="invalid JSON"):
        load_taxonomy(bad)
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "none.json")
