"""Evaluation reports: JSON, a Markdown table in the paper's layout, and matplotlib figures.

The results dict these functions read is the one :func:`ovhhir_core.eval.evaluate.evaluate`
returns (see its docstring for the keys).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _fmt(stat: Mapping[str, float] | float | None, digits: int = 3) -> str:
    """``0.628 ± 0.019`` for a mean/std dict, ``0.315`` for a number, ``–`` for missing/NaN."""
    if stat is None:
        return "–"
    if isinstance(stat, Mapping):
        mean, std = stat.get("mean"), stat.get("std")
        if mean is None or (isinstance(mean, float) and math.isnan(mean)):
            return "–"
        if std is None or math.isnan(std):
            return f"{mean:.{digits}f}"
        return f"{mean:.{digits}f} ± {std:.{digits}f}"
    if isinstance(stat, float) and math.isnan(stat):
        return "–"
    return f"{stat:.{digits}f}"


def write_json(results: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``results`` as indented JSON (NaN written as null). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def clean(x: Any) -> Any:
        if isinstance(x, float) and math.isnan(x):
            return None
        if isinstance(x, Mapping):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, np.generic):
            return clean(x.item())
        return x

    path.write_text(json.dumps(clean(results), indent=2, ensure_ascii=False) + "\n")
    return path


def markdown_table(results: Mapping[str, Any]) -> str:
    """The paper's layout: one row per source dataset (then "All"), cosine and macro-F1 columns.

    Columns: dataset, samples, cosine similarity (mean ± std over samples), prompt-classifier
    macro-F1 (mean ± std over seeds), nearest-class macro-F1. An open-set section follows when
    the results hold one.
    """
    cells = _rows(results)
    lines = [
        "| Dataset | Samples | Cosine similarity | Macro-F1 (prompt classifier) | "
        "Macro-F1 (nearest class) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in [k for k in cells if not k.startswith("open set")]:
        label = "**All**" if name == "all" else name
        lines.append(f"| {label} | " + " | ".join(cells[name]) + " |")
    open_set = results.get("open_set")
    if open_set:
        lines += [
            "",
            f"Open set ({open_set.get('num_candidates', '?')} candidate classes, "
            f"{open_set.get('num_unseen_samples', 0)} samples of unseen classes):",
            "",
            "| Split | Macro-F1 (prompt classifier) | Macro-F1 (nearest class) |",
            "|---|---:|---:|",
            f"| Unseen classes | {_fmt(open_set.get('prompt_macro_f1_unseen'))} | "
            f"{_fmt(open_set.get('nearest_macro_f1_unseen'))} |",
            f"| All classes | {_fmt(open_set.get('prompt_macro_f1_all'))} | "
            f"{_fmt(open_set.get('nearest_macro_f1_all'))} |",
        ]
    meta = results.get("meta", {})
    if meta:
        lines += [
            "",
            f"Answerer: {run_name(results)}; seeds {meta.get('seeds')}, embedder "
            f"`{meta.get('embedder')}`.",
        ]
    return "\n".join(lines) + "\n"


def run_name(results: Mapping[str, Any]) -> str:
    """What produced a run: its answerer caption, else backend / preset / checkpoint."""
    meta = results.get("meta", {})
    if meta.get("answerer_caption"):
        return str(meta["answerer_caption"])
    parts = [meta.get("backend") or "ovhhir", f"preset {meta.get('preset')}"]
    if meta.get("checkpoint"):
        parts.append(f"checkpoint {meta['checkpoint']}")
    return " · ".join(parts)


def _rows(results: Mapping[str, Any]) -> dict[str, list[str]]:
    """Metric cells of one run: ``{row name: [samples, cosine, prompt F1, nearest F1]}``."""
    cos = results.get("cosine", {})
    prompt = results.get("prompt_classifier", {}).get("macro_f1", {})
    nearest = results.get("nearest_class", {}).get("macro_f1", {})
    counts = results.get("num_samples_by_source", {})
    rows = {
        name: [str(counts.get(name, 0)), _fmt(cos.get(name)), _fmt(prompt.get(name))]
        + [_fmt(nearest.get(name))]
        for name in [*(d for d in counts if d != "all"), "all"]
    }
    open_set = results.get("open_set") or {}
    for split in ("unseen", "all"):
        rows[f"open set, {split} classes"] = [
            str(open_set.get("num_unseen_samples", "–")) if split == "unseen" else "",
            "",
            _fmt(open_set.get(f"prompt_macro_f1_{split}")),
            _fmt(open_set.get(f"nearest_macro_f1_{split}")),
        ]
    return rows


def compare_table(runs: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None) -> str:
    """One Markdown table with the runs side by side (a column per run for every metric): rows
    are the datasets, "All" and the open set; the runs are listed under it (A, B, ...)."""
    names = list(names or [run_name(r) for r in runs])
    tags = [chr(ord("A") + i) for i in range(len(runs))]
    cells = [_rows(r) for r in runs]
    order = list(dict.fromkeys(k for c in cells for k in c))
    metrics = ["Samples", "Cosine similarity", "Macro-F1 (prompt)", "Macro-F1 (nearest)"]
    head = [f"{m} {t}" for m in metrics for t in tags]
    lines = ["| Dataset | " + " | ".join(head) + " |", "|---|" + "---:|" * len(head)]
    for row in order:
        values = [c.get(row, [""] * 4)[m] for m in range(4) for c in cells]
        if not any(v not in ("", "–") for v in values):
            continue
        label = "**All**" if row == "all" else row
        lines.append(f"| {label} | " + " | ".join(v or " " for v in values) + " |")
    lines.append("")
    lines += [f"{t}: {n}" + "  " for t, n in zip(tags, names, strict=True)]
    return "\n".join(lines) + "\n"


def write_comparison(*results_json: str | Path, out_dir: str | Path) -> Path:
    """Read runs' ``results.json`` files and write ``comparison.md`` into ``out_dir``."""
    runs = [json.loads(Path(p).read_text()) for p in results_json]
    path = Path(out_dir) / "comparison.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(compare_table(runs))
    return path


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(
    matrix: np.ndarray, labels: Sequence[str], path: str | Path, title: str = "Confusion matrix"
) -> Path:
    """Row-normalised confusion matrix ((K, K) counts; rows = true, columns = predicted) as PNG."""
    plt = _figure()
    mat = np.asarray(matrix, dtype=np.float64)
    rows = mat.sum(axis=1, keepdims=True)
    norm = np.divide(mat, rows, out=np.zeros_like(mat), where=rows > 0)
    k = len(labels)
    size = min(4 + 0.25 * k, 30)
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), labels, rotation=90, fontsize=max(4, 10 - k // 15))
    ax.set_yticks(range(k), labels, fontsize=max(4, 10 - k // 15))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                if mat[i, j]:
                    ax.text(
                        j,
                        i,
                        int(mat[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black",
                    )
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_per_class_f1(
    per_class: Mapping[str, Mapping[str, float]], path: str | Path, title: str = "Per-class F1"
) -> Path:
    """Horizontal bars of each class's F1 (sorted), support in the tick labels, as PNG."""
    plt = _figure()
    items = sorted(per_class.items(), key=lambda kv: kv[1]["f1"])
    names = [f"{k} (n={int(v['support'])})" for k, v in items]
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.25 * len(items) + 1)))
    ax.barh(range(len(items)), [v["f1"] for _, v in items], color="tab:blue")
    ax.set_yticks(range(len(items)), names, fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_similarity_histogram(
    values: Sequence[float],
    path: str | Path,
    title: str = "Cosine similarity, generated vs ground truth",
) -> Path:
    """Histogram of per-sample cosine similarities (in [-1, 1]) with the mean marked, as PNG."""
    plt = _figure()
    vals = np.asarray(values, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(vals, bins=min(30, max(5, len(vals) // 2)), range=(-0.2, 1.0), color="tab:green")
    if vals.size:
        ax.axvline(vals.mean(), color="black", linestyle="--", label=f"mean {vals.mean():.3f}")
        ax.legend()
    ax.set_xlabel("cosine similarity")
    ax.set_ylabel("samples")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, plt, path)


def _save(fig, plt, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(results: Mapping[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``results.json``, ``results.md`` and the figures into ``out_dir``.

    Returns ``{"json", "markdown", "confusion", "per_class_f1", "similarity_histogram"}`` → paths
    (figures only when the results hold the data they plot).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": write_json(results, out_dir / "results.json")}
    md = out_dir / "results.md"
    md.write_text(markdown_table(results))
    paths["markdown"] = md
    prompt = results.get("prompt_classifier", {})
    if prompt.get("confusion"):
        conf = prompt["confusion"]
        paths["confusion"] = plot_confusion(
            np.asarray(conf["matrix"]),
            conf["labels"],
            out_dir / "confusion_matrix.png",
            title="Prompt classifier (first seed)",
        )
    if prompt.get("per_class"):
        paths["per_class_f1"] = plot_per_class_f1(
            prompt["per_class"],
            out_dir / "per_class_f1.png",
            title="Prompt classifier per-class F1",
        )
    sims = [s["cosine"] for s in results.get("samples", []) if s.get("cosine") is not None]
    if sims:
        paths["similarity_histogram"] = plot_similarity_histogram(
            sims, out_dir / "similarity_histogram.png"
        )
    return paths
