"""The Review tab, for annotators checking an HHIRChat file.

Open a dataset (an upload of the .json/.jsonl with its videos, a .zip of the dataset folder, or a
path under one of the server's review roots), browse samples (three streams side by side and the
ground-truth conversation), run the model on a sample (prediction and its cosine similarity to the
ground truth), mark it correct / wrong, edit the answer, add a note, and export the reviewed set.
Unpacking, progress and export are ``ovhhir_core.review``; this module only wires them to widgets.
"""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import Any

import gradio as gr

from app import common
from app.state import Services, SessionState, on_gpu
from ovhhir_core.answering import BACKENDS
from ovhhir_core.review import VERDICTS, ReviewSet, first_question, is_inside, unpack_uploads

log = logging.getLogger(__name__)

EXAMPLE_SET = Path(__file__).resolve().parent.parent / "assets" / "review" / "hhirchat.json"


class ReviewHandlers:
    """Review tab handlers bound to the process-wide :class:`Services`."""

    def __init__(self, services: Services):
        self.services = services
        self.run_model = common.user_errors(on_gpu(duration=90)(self._run_model))

    @common.user_errors
    def open(self, state: SessionState, uploads: list[str] | None, path: str) -> tuple:
        """Load a dataset from uploads or from a path under a review root; show sample 0."""
        if uploads:
            source = unpack_uploads(list(uploads), state.workdir / "review" / "dataset")
        elif path and path.strip():
            source = Path(path.strip()).expanduser()
            roots = self.services.settings.review_roots
            if not roots:
                common.fail(
                    "Opening by path is off on this server (no --review-root); "
                    "upload the dataset file and its videos instead."
                )
            if not is_inside(source, roots):
                common.fail(f"{source} is not under an allowed folder: {', '.join(roots)}.")
        else:
            common.fail("Upload a dataset (with its videos, or as a .zip) or give a path.")
        state.review = ReviewSet.open(source)
        return (state, *self.show(state))

    @common.user_errors
    def open_example(self, state: SessionState) -> tuple:
        """Open the synthetic example set shipped in ``assets/review`` (for trying the tab)."""
        state.review = ReviewSet.open(EXAMPLE_SET)
        return (state, *self.show(state))

    def show(self, state: SessionState) -> tuple:
        """The current sample: ``(position, person_1, person_2, background, conversation,
        prediction, similarity, verdict, edited_answer, note)``."""
        rv = state.review
        s = rv.current
        if s is None:
            return ("No dataset open.", None, None, None, [], "", "", VERDICTS[0], "", "")
        rec = rv.records.get(s.id, {})
        conv = [
            {
                "role": "user" if t.role == "human" else "assistant",
                "content": common.display(t.text),
            }
            for t in s.conversations
        ]
        label = f" — label **{s.label}**" if s.label else ""
        sim = rec.get("similarity")
        return (
            f"Sample {rv.index + 1} of {len(rv.samples)}: id `{s.id}`{label}",
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

    @common.user_errors
    def save(self, state: SessionState, verdict: str, edited: str, note: str) -> str:
        """Keep the annotator's verdict, edited answer and note for the current sample."""
        rv = state.review
        if not rv.samples:
            return "No dataset open."
        done = rv.save(verdict, edited, note)
        return f"Saved. {done} of {len(rv.samples)} samples reviewed."

    @common.user_errors
    def move(self, state: SessionState, step: int, verdict: str, edited: str, note: str) -> tuple:
        """Save the current sample, then go ``step`` samples forward (wrapping around)."""
        if state.review.samples:
            state.review.save(verdict, edited, note)
            state.review.move(step)
        return self.show(state)

    def next(self, state: SessionState, verdict: str, edited: str, note: str) -> tuple:
        return self.move(state, 1, verdict, edited, note)

    def previous(self, state: SessionState, verdict: str, edited: str, note: str) -> tuple:
        return self.move(state, -1, verdict, edited, note)

    def _run_model(
        self, state: SessionState, backend: str, *settings: float
    ) -> tuple[str, str, str]:
        """Ask the sample's first question with the ``backend`` answerer (``auto|ovhhir|
        zeroshot``; empty = the app's); return ``(prediction, cosine similarity to truth,
        provenance of the prediction)``."""
        from ovhhir_core.answering import TrackedClip
        from ovhhir_core.eval.metrics import cosine_similarity

        rv = state.review
        s = rv.current
        if s is None:
            common.fail("Open a dataset first.")
        question = first_question(s)
        if question is None:
            common.fail(f"Sample {s.id} has no question.")
        gen = common.GenerationSettings.parse(settings)
        streams = {k: Path(v) for k, v in s.streams.items() if v is not None}
        clip = TrackedClip(streams=streams, fill=tuple(s.fill))
        answerer = self.services.answerer(backend or None)
        conversation = answerer.open(clip, frames=gen.frames)
        last = deque(conversation.ask(question, gen.config), maxlen=1)  # keep the final text
        prediction = last[0].strip() if last else ""
        rec = rv.record(s)
        rec["prediction"] = prediction
        sim = None
        if s.answer:
            vecs = self.services.embedder().encode([prediction, s.answer])  # (2, D)
            sim = float(cosine_similarity(vecs[0], vecs[1]))
            rec["similarity"] = sim
        shown = common.provenance_markdown(conversation.provenance)
        return prediction, "" if sim is None else f"{sim:.3f}", shown

    @common.user_errors
    def export(self, state: SessionState, verdict: str, edited: str, note: str) -> list[str]:
        """Save the current sample, then write ``reviewed.jsonl`` and ``reviewed.csv``."""
        rv = state.review
        if not rv.samples:
            common.fail("Open a dataset first.")
        rv.save(verdict, edited, note)
        return [state.hand_out(p) for p in rv.export(state.workdir / "review" / "export")]


def _layout(services: Services) -> dict[str, Any]:
    """The tab's components by name (inside the caller's ``gr.Tab``)."""
    w: dict[str, Any] = {}
    with gr.Row():
        w["uploads"] = gr.File(
            label="HHIRChat file + its videos, or a .zip",
            file_count="multiple",
            elem_id="review-upload",
        )
        with gr.Column():
            w["path"] = gr.Textbox(
                label="…or a path on the server",
                placeholder=", ".join(services.settings.review_roots)
                or "disabled: no --review-root",
            )
            with gr.Row():
                w["open"] = gr.Button("Open", variant="primary")
                w["example"] = gr.Button("Open the example set", elem_id="review-example")
    w["position"] = gr.Markdown("No dataset open.", elem_id="review-position")
    with gr.Row():
        for key, label in (("p1", "Person 1"), ("p2", "Person 2"), ("bg", "Background")):
            w[key] = gr.Video(label=label, interactive=False, elem_id=f"review-{key}")
    with gr.Row():
        w["truth"] = gr.Chatbot(label="Ground truth", height=260, elem_id="review-truth")
        with gr.Column():
            w["run"] = gr.Button("Run the model on this sample")
            w["prediction"] = gr.Textbox(label="Prediction", lines=4, interactive=False)
            w["similarity"] = gr.Textbox(label="Cosine similarity to the ground truth")
            w["provenance"] = gr.Markdown("", elem_id="review-provenance")
            with gr.Accordion("Generation settings", open=False):
                w["settings"] = common.GenerationSettings(max_new_tokens=96)
            w["backend"] = gr.Radio(
                list(BACKENDS),
                value=services.settings.backend,
                label="Answerer to run against the ground truth",
                elem_id="review-backend",
            )
    with gr.Row():
        w["verdict"] = gr.Radio(list(VERDICTS), value=VERDICTS[0], label="Verdict")
        w["edited"] = gr.Textbox(label="Answer (edit to correct it)", lines=3)
        w["note"] = gr.Textbox(label="Note", lines=3)
    with gr.Row():
        w["prev"] = gr.Button("← Previous (k)", elem_id="review-prev")
        w["save"] = gr.Button("Save")
        w["next"] = gr.Button("Next (j) →", elem_id="review-next")
        w["export"] = gr.Button("Export JSONL + CSV")
    w["status"] = gr.Markdown("")
    w["exports"] = gr.File(label="Reviewed set", file_count="multiple", interactive=False)
    return w


def build_review(services: Services, state: gr.State) -> ReviewHandlers:
    """The Review tab's layout and events (inside the caller's ``gr.Tab``)."""
    rh = ReviewHandlers(services)
    w = _layout(services)
    names = "position p1 p2 bg truth prediction similarity verdict edited note".split()
    shown = [w[k] for k in names]
    edits = [state, w["verdict"], w["edited"], w["note"]]
    w["open"].click(
        rh.open, [state, w["uploads"], w["path"]], [state, *shown], api_name="review_open"
    )
    w["example"].click(rh.open_example, [state], [state, *shown], api_name="review_example")
    w["prev"].click(rh.previous, edits, shown, api_name="review_previous")
    w["next"].click(rh.next, edits, shown, api_name="review_next")
    w["save"].click(rh.save, edits, w["status"], api_name="review_save")
    w["run"].click(
        rh.run_model,
        [state, w["backend"], *w["settings"].inputs],
        [w["prediction"], w["similarity"], w["provenance"]],
        api_name="review_run",
        **common.gpu_queue(services),
    )
    w["export"].click(rh.export, edits, w["exports"], api_name="review_export")
    return rh
