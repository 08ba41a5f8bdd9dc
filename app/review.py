"""Event handlers of the Review tab, for annotators checking an HHIRChat file.

Open a dataset (an upload of the .json/.jsonl with its videos, a .zip of the dataset folder, or a
path under one of the server's review roots), browse samples (three streams side by side and the
ground-truth conversation), run the model on a sample (prediction and its cosine similarity to the
ground truth), mark it correct / wrong, edit the answer, add a note, and export the reviewed set as
JSONL (HHIRChat samples with a ``review`` object) and CSV.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
import zipfile
from collections import deque
from pathlib import Path
from typing import Any

import gradio as gr

from app.chat import display, generation_config
from app.handlers import user_errors
from app.state import ReviewState, Services, SessionState, on_gpu

log = logging.getLogger(__name__)

VERDICTS = ("unreviewed", "correct", "wrong")
CSV_FIELDS = (
    "id",
    "label",
    "question",
    "ground_truth",
    "prediction",
    "similarity",
    "verdict",
    "edited_answer",
    "note",
)
DATASET_SUFFIXES = (".json", ".jsonl")
EXAMPLE_SET = Path(__file__).resolve().parent.parent / "assets" / "review" / "hhirchat.json"


def _inside(path: Path, roots: list[str]) -> bool:
    real = path.resolve()
    return any(real == Path(r) or Path(r) in real.parents for r in roots)


def _unpack_uploads(files: list[str], dest: Path) -> Path:
    """Copy uploaded files (or extract a .zip) into ``dest``; return the dataset file."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for f in files:
        src = Path(f)
        if src.suffix.lower() == ".zip":
            with zipfile.ZipFile(src) as zf:
                for member in zf.namelist():
                    target = (dest / member).resolve()
                    if dest.resolve() not in target.parents:
                        raise gr.Error(
                            f"{src.name}: member {member!r} escapes the archive.",
                            print_exception=False,
                        )
                zf.extractall(dest)
        else:
            shutil.copy(src, dest / src.name)
    found = sorted(
        (p for p in dest.rglob("*") if p.suffix.lower() in DATASET_SUFFIXES),
        key=lambda p: (len(p.parts), p.name),
    )
    if not found:
        raise gr.Error("No .json or .jsonl dataset file among the uploads.", print_exception=False)
    return found[0]


class ReviewHandlers:
    """Review tab handlers bound to the process-wide :class:`Services`."""

    def __init__(self, services: Services):
        self.services = services
        self.run_model = user_errors(on_gpu(duration=90)(self._run_model))

    @user_errors
    def open(self, state: SessionState, uploads: list[str] | None, path: str) -> tuple:
        """Load a dataset from uploads or from a path under a review root; show sample 0."""
        from ovhhir_core.data.hhirchat import load_dataset

        if uploads:
            source = _unpack_uploads(list(uploads), state.workdir / "review" / "dataset")
        elif path and path.strip():
            source = Path(path.strip()).expanduser()
            roots = self.services.settings.review_roots
            if not roots:
                raise gr.Error(
                    "Opening by path is off on this server (no --review-root); "
                    "upload the dataset file and its videos instead.",
                    print_exception=False,
                )
            if not _inside(source, roots):
                raise gr.Error(
                    f"{source} is not under an allowed folder: {', '.join(roots)}.",
                    print_exception=False,
                )
        else:
            raise gr.Error(
                "Upload a dataset (with its videos, or as a .zip) or give a path.",
                print_exception=False,
            )
        samples = load_dataset(source, check_files=True)
        if not samples:
            raise gr.Error(f"{source.name} holds no samples.", print_exception=False)
        state.review = ReviewState(source=source, samples=samples, index=0)
        return (state, *self.show(state))

    @user_errors
    def open_example(self, state: SessionState) -> tuple:
        """Open the synthetic example set shipped in ``assets/review`` (for trying the tab)."""
        from ovhhir_core.data.hhirchat import load_dataset

        source = EXAMPLE_SET
        state.review = ReviewState(source=source, samples=load_dataset(source, check_files=True))
        return (state, *self.show(state))

    def show(self, state: SessionState) -> tuple:
        """The current sample: ``(position, person_1, person_2, background, conversation,
        prediction, similarity, verdict, edited_answer, note)``."""
        rv = state.review
        if not rv.samples:
            return ("No dataset open.", None, None, None, [], "", "", VERDICTS[0], "", "")
        s = rv.samples[rv.index]
        rec = rv.records.get(s.id, {})
        conv = [
            {"role": "user" if t.role == "human" else "assistant", "content": display(t.text)}
            for t in s.conversations
        ]
        label = f" — label **{s.label}**" if s.label else ""
        position = f"Sample {rv.index + 1} of {len(rv.samples)}: id `{s.id}`{label}"
        sim = rec.get("similarity")
        return (
            position,
            str(s.p1),
            str(s.p2),
            str(s.bg) if s.bg else None,
            conv,
            rec.get("prediction", ""),
            "" if sim is None else f"{sim:.3f}",
            rec.get("verdict", VERDICTS[0]),
            rec.get("edited_answer", s.answer or ""),
            rec.get("note", ""),
        )

    def save(self, state: SessionState, verdict: str, edited: str, note: str) -> str:
        """Keep the annotator's verdict, edited answer and note for the current sample."""
        rv = state.review
        if not rv.samples:
            return "No dataset open."
        s = rv.samples[rv.index]
        rec = rv.records.setdefault(s.id, {})
        rec.update(verdict=verdict, edited_answer=edited, note=note)
        done = sum(1 for r in rv.records.values() if r.get("verdict", "unreviewed") != "unreviewed")
        return f"Saved. {done} of {len(rv.samples)} samples reviewed."

    def move(self, state: SessionState, step: int, verdict: str, edited: str, note: str) -> tuple:
        """Save the current sample, then go ``step`` samples forward (wrapping around)."""
        rv = state.review
        if rv.samples:
            self.save(state, verdict, edited, note)
            rv.index = (rv.index + step) % len(rv.samples)
        return self.show(state)

    def next(self, state: SessionState, verdict: str, edited: str, note: str) -> tuple:
        return self.move(state, 1, verdict, edited, note)

    def previous(self, state: SessionState, verdict: str, edited: str, note: str) -> tuple:
        return self.move(state, -1, verdict, edited, note)

    def _run_model(
        self,
        state: SessionState,
        temperature: float,
        top_p: float,
        beams: float,
        max_tokens: float,
        frames: float,
    ) -> tuple[str, str]:
        """Ask the sample's first question; return ``(prediction, cosine similarity to truth)``."""
        from ovhhir_core.eval.metrics import cosine_similarity
        from ovhhir_core.model import ChatSession, load_clip

        rv = state.review
        if not rv.samples:
            raise gr.Error("Open a dataset first.", print_exception=False)
        s = rv.samples[rv.index]
        question = next((t.text for t in s.conversations if t.role == "human"), None)
        if question is None:
            raise gr.Error(f"Sample {s.id} has no question.", print_exception=False)
        streams = {k: str(v) for k, v in s.streams.items() if v is not None}
        clip = load_clip(streams, num_frames=int(frames), fill=s.fill)
        chat = ChatSession(self.services.model(), clip)
        gen = generation_config(temperature, top_p, beams, max_tokens)
        last = deque(chat.ask(question, gen), maxlen=1)  # the answer grows; keep the final text
        prediction = last[0].strip() if last else ""
        rec = rv.records.setdefault(s.id, {})
        rec["prediction"] = prediction
        sim = None
        if s.answer:
            vecs = self.services.embedder().encode([prediction, s.answer])  # (2, D)
            sim = float(cosine_similarity(vecs[0], vecs[1]))
            rec["similarity"] = sim
        return prediction, "" if sim is None else f"{sim:.3f}"

    @user_errors
    def export(self, state: SessionState, verdict: str, edited: str, note: str) -> list[str]:
        """Write the reviewed set: ``reviewed.jsonl`` and ``reviewed.csv``; return their paths.

        JSONL lines are HHIRChat samples (video paths relative to the dataset's folder, so the file
        works when placed next to the original) with a ``review`` object; an edited answer replaces
        the first gpt turn and the original is kept in ``review.original_answer``.
        """
        rv = state.review
        if not rv.samples:
            raise gr.Error("Open a dataset first.", print_exception=False)
        self.save(state, verdict, edited, note)
        out = state.workdir / "review" / "export"
        out.mkdir(parents=True, exist_ok=True)
        root = rv.source.resolve().parent
        jsonl, table = out / "reviewed.jsonl", out / "reviewed.csv"
        with (
            open(jsonl, "w", encoding="utf-8") as fj,
            open(table, "w", newline="", encoding="utf-8") as fc,
        ):
            writer = csv.DictWriter(fc, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for s in rv.samples:
                rec = rv.records.get(s.id, {})
                record = s.to_json(root)
                review = self._review_object(s, rec)
                if review["edited_answer"] is not None:
                    first_gpt = next(t for t in record["conversations"] if t["from"] == "gpt")
                    first_gpt["value"] = review["edited_answer"]
                record["review"] = review
                fj.write(json.dumps(record, ensure_ascii=False) + "\n")
                writer.writerow(self._csv_row(s, review))
        return [str(jsonl), str(table)]

    @staticmethod
    def _review_object(sample: Any, rec: dict[str, Any]) -> dict[str, Any]:
        edited = rec.get("edited_answer")
        if edited is not None and edited.strip() == (sample.answer or "").strip():
            edited = None
        return {
            "verdict": rec.get("verdict", VERDICTS[0]),
            "prediction": rec.get("prediction"),
            "similarity": rec.get("similarity"),
            "note": rec.get("note", ""),
            "edited_answer": edited,
            "original_answer": sample.answer,
        }

    @staticmethod
    def _csv_row(sample: Any, review: dict[str, Any]) -> dict[str, Any]:
        question = next((t.text for t in sample.conversations if t.role == "human"), "")
        sim = review["similarity"]
        return {
            "id": sample.id,
            "label": sample.label or "",
            "question": question,
            "ground_truth": sample.answer or "",
            "prediction": review["prediction"] or "",
            "similarity": "" if sim is None else f"{sim:.4f}",
            "verdict": review["verdict"],
            "edited_answer": review["edited_answer"] or "",
            "note": review["note"],
        }
