"""The paper's evaluation protocol, run with any answerer (CLI: :mod:`ovhhir_core.eval.cli`).

For every sample of an HHIRChat file the answerer (trained OV-HHIR, the zero-shot video-LLM, ...)
describes the interaction (the sample's own first question, greedy by default). Then:

(a) cosine similarity between sentence embeddings of the generated and the ground-truth
    description, mean ± std per source dataset and overall;
(b) the prompt classifier: the answerer is asked for one class among the dataset's candidate classes
    (their order shuffled per seed), its answer mapped to a class (exact, contains, fuzzy,
    embedding); macro-F1 per dataset, mean ± std over seeds;
(c) open set: the same question over the seen + unseen class lists; macro-F1 on the samples of
    unseen classes and on all samples;
(d) the embedding nearest class: the generated description goes to the class whose soft labels
    it is closest to (no LLM involved in the decision).

``python -m ovhhir_core evaluate`` writes ``results.json``, ``results.md`` (the paper's table layout)
and figures into ``--out``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovhhir_core.answering.base import GenerationConfig, TrackedClip
from ovhhir_core.eval import metrics
from ovhhir_core.eval.candidates import ClassSpace
from ovhhir_core.eval.classify import (
    class_prompt,
    fresh_answer,
    map_answer_to_class,
    nearest_class,
    shuffled,
)
from ovhhir_core.streams import describe_question

log = logging.getLogger(__name__)


@dataclass
class EvalOptions:
    """Settings of one evaluation run (the CLI flags, minus loading the answerer)."""

    seeds: Sequence[int] = (0, 1, 2)
    max_new_tokens: int = 96
    class_max_new_tokens: int = 16
    temperature: float = 0.0
    open_set: str = "auto"
    candidates: str = "dataset"
    unseen: Sequence[str] = ()
    max_samples: int | None = None
    frames: int = 16
    meta: dict[str, Any] = field(default_factory=dict)


def _label(sample: Any) -> str | None:
    if sample.label:
        return sample.label
    word = sample.one_word
    return word.strip().rstrip(".") if word else None


def _question(sample: Any) -> str:
    first = sample.conversations[0]
    return first.text if first.role == "human" else describe_question(sample.bg is not None)


def sample_clip(sample: Any) -> TrackedClip:
    """The tracked clip of an HHIRChat sample (its streams and fill colour)."""
    streams = {k: Path(v) for k, v in sample.streams.items() if v is not None}
    return TrackedClip(streams=streams, fill=tuple(sample.fill))


def evaluate(
    answerer: Any,
    samples: Sequence[Any],
    embedder: Any,
    space: ClassSpace,
    opts: EvalOptions,
    open_sample: Callable[[Any], Any] | None = None,
) -> Iterator[tuple[int, int, dict | None]]:
    """Run the evaluation with any answerer; a generator of ``(done, total, None)`` per sample,
    then ``(total, total, results)``.

    ``answerer``: an :class:`~ovhhir_core.answering.Answerer`. ``open_sample(sample)`` returns a
    conversation on the sample's clip (default: ``answerer.open(sample_clip(sample),
    opts.frames, use_facts=False)``; the CLI passes one reading a feature cache). Every question
    is asked on its own (no earlier turns). ``results`` keys: meta, num_samples_by_source,
    cosine, prompt_classifier, nearest_class, open_set (or None), samples.
    """
    if open_sample is None:

        def open_sample(sample: Any) -> Any:
            return answerer.open(sample_clip(sample), frames=opts.frames, use_facts=False)

    samples = list(samples)[: opts.max_samples] if opts.max_samples else list(samples)
    rows: list[dict[str, Any]] = []
    provenance = None
    for i, sample in enumerate(samples):
        conversation = open_sample(sample)
        provenance = conversation.provenance
        gen = GenerationConfig(
            temperature=opts.temperature, max_new_tokens=opts.max_new_tokens, seed=0
        )
        label = _label(sample)
        label = space.canon(label) if label else None
        row: dict[str, Any] = {
            "id": sample.id,
            "source": sample.source or "unknown",
            "label": label,
            "generated": fresh_answer(conversation, _question(sample), gen),
            "reference": sample.answer,
        }
        if label is not None:
            has_bg = sample.bg is not None
            row.update(_classify(conversation, label, row["source"], space, opts, has_bg))
        rows.append(row)
        yield i + 1, len(samples), None
    results = _summarise(rows, embedder, space, opts)
    if provenance is not None:
        results["meta"]["answerer"] = dataclasses.asdict(provenance)
        results["meta"]["answerer_caption"] = provenance.caption()
    yield len(samples), len(samples), results


def _ask(conversation: Any, candidates: list[str], seed: int, opts: EvalOptions, bg: bool) -> str:
    order = shuffled(candidates, seed)
    gen = GenerationConfig(
        temperature=opts.temperature, max_new_tokens=opts.class_max_new_tokens, seed=seed
    )
    return fresh_answer(conversation, class_prompt(order, bg), gen)


def _classify(
    conversation: Any, label: str, source: str, space: ClassSpace, opts: EvalOptions, bg: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {"prompt_answers": [], "open_answers": []}
    cands = space.candidates(source, label)
    out["prompt_answers"] = [_ask(conversation, cands, s, opts, bg) for s in opts.seeds]
    if space.open_set_enabled:
        open_cands = space.open_candidates(label)
        out["open_answers"] = [_ask(conversation, open_cands, s, opts, bg) for s in opts.seeds]
    return out


def _summarise(
    rows: list[dict[str, Any]], embedder: Any, space: ClassSpace, opts: EvalOptions
) -> dict[str, Any]:
    """Embed, map answers to classes, and compute every metric over the collected rows."""
    import numpy as np

    gen = embedder.encode([r["generated"] or "" for r in rows]) if rows else np.zeros((0, 1))
    ref = embedder.encode([r["reference"] or "" for r in rows]) if rows else np.zeros((0, 1))
    cos = metrics.cosine_similarity(gen, ref) if rows else np.zeros(0)
    for r, c in zip(rows, cos, strict=True):
        r["cosine"] = float(c)
    sources = [r["source"] for r in rows]
    counts = {s: sources.count(s) for s in sorted(set(sources))}
    counts["all"] = len(rows)
    results: dict[str, Any] = {
        "meta": {
            **opts.meta,
            "seeds": list(opts.seeds),
            "temperature": opts.temperature,
            "candidates": opts.candidates,
        },
        "num_samples_by_source": counts,
        "cosine": metrics.group_mean_std([r["cosine"] for r in rows], sources),
    }
    labelled = [r for r in rows if r.get("label") is not None]
    results["prompt_classifier"] = _prompt_metrics(labelled, embedder, space, opts)
    results["nearest_class"] = _nearest_metrics(labelled, embedder, space)
    results["open_set"] = _open_set_metrics(labelled, embedder, space, opts)
    results["samples"] = rows
    return results


def _prompt_metrics(
    rows: list[dict], embedder: Any, space: ClassSpace, opts: EvalOptions
) -> dict[str, Any]:
    if not rows:
        return {}
    y_true = [r["label"] for r in rows]
    groups = [r["source"] for r in rows]
    per_seed, methods = [], {}
    for k, _seed in enumerate(opts.seeds):
        preds = []
        for r in rows:
            m = map_answer_to_class(
                r["prompt_answers"][k], space.candidates(r["source"], r["label"]), embedder
            )
            preds.append(m.label)
            methods[m.method] = methods.get(m.method, 0) + 1
        per_seed.append(preds)
    for r, *preds in zip(rows, *per_seed, strict=True):
        r["prompt_pred"] = list(preds)
    by_seed = [metrics.macro_f1_by_group(y_true, p, groups) for p in per_seed]
    names = sorted(by_seed[0])
    f1 = {g: metrics.mean_std([s[g] for s in by_seed]) for g in names}
    labels = sorted(set(y_true) | set(per_seed[0]))
    matrix, labels = metrics.confusion_matrix(y_true, per_seed[0], labels)
    per_class = metrics.per_class_f1(y_true, per_seed[0])
    return {
        "macro_f1": f1,
        "per_seed": by_seed,
        "mapping_methods": methods,
        "accuracy": metrics.mean_std([metrics.accuracy(y_true, p) for p in per_seed]),
        "per_class": {k: v for k, v in per_class.items() if v["support"] > 0},
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
    }


def _nearest_metrics(rows: list[dict], embedder: Any, space: ClassSpace) -> dict[str, Any]:
    if not rows:
        return {}
    for r in rows:
        cands = space.candidates(r["source"], r["label"])
        r["nearest_pred"] = nearest_class(
            [r["generated"] or ""], {c: space.soft_labels(c) for c in cands}, embedder
        )[0]
    y_true = [r["label"] for r in rows]
    y_pred = [r["nearest_pred"] for r in rows]
    return {
        "macro_f1": metrics.macro_f1_by_group(y_true, y_pred, [r["source"] for r in rows]),
        "accuracy": metrics.accuracy(y_true, y_pred),
    }


def _open_set_metrics(
    rows: list[dict], embedder: Any, space: ClassSpace, opts: EvalOptions
) -> dict[str, Any] | None:
    if not space.open_set_enabled or not rows:
        return None
    unseen_rows = [i for i, r in enumerate(rows) if space.is_unseen(r["label"])]
    y_true = [r["label"] for r in rows]
    prompt_all, prompt_unseen = [], []
    for k in range(len(opts.seeds)):
        preds = [
            map_answer_to_class(
                r["open_answers"][k], space.open_candidates(r["label"]), embedder
            ).label
            for r in rows
        ]
        prompt_all.append(metrics.macro_f1(y_true, preds))
        if unseen_rows:
            prompt_unseen.append(
                metrics.macro_f1([y_true[i] for i in unseen_rows], [preds[i] for i in unseen_rows])
            )
        if k == 0:
            for r, p in zip(rows, preds, strict=True):
                r["open_pred"] = p
    cands = space.open_candidates(None)
    texts = {c: space.soft_labels(c) for c in cands}
    near = nearest_class([r["generated"] or "" for r in rows], texts, embedder)
    return {
        "num_candidates": len(cands),
        "num_unseen_samples": len(unseen_rows),
        "unseen_classes": sorted(space.unseen),
        "prompt_macro_f1_all": metrics.mean_std(prompt_all),
        "prompt_macro_f1_unseen": metrics.mean_std(prompt_unseen),
        "nearest_macro_f1_all": metrics.macro_f1(y_true, near),
        "nearest_macro_f1_unseen": (
            metrics.macro_f1([y_true[i] for i in unseen_rows], [near[i] for i in unseen_rows])
            if unseen_rows
            else float("nan")
        ),
    }
