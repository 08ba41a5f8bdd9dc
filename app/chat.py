"""Event handlers of the Chat tab: ask (streamed), describe, one word, regenerate, clear, classify.

The chat is about the clip the user tracked on the Track tab: its three streams (person 1, person 2,
background) are sampled to ``frames`` frames each and given to the multi-branch model. Answers are
streamed: each handler is a generator that yields the growing ``gr.Chatbot`` message list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from app.handlers import user_errors
from app.state import Services, SessionState, on_gpu
from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)

UNTRAINED_WARNING = (
    "⚠️ **The model's branches are untrained** (no checkpoint was loaded): the LLM never learnt "
    "what the video tokens mean, so answers do not describe the video. Train with "
    "`python -m ovhhir_core train` and start the app with `--checkpoint PATH`."
)

#: Classify box methods (``ovhhir_core.eval.classify.rank_classes``): label -> method.
CLASSIFY_METHODS = {
    "Description similarity (fast: one answer, then sentence embeddings)": "embedding",
    "LLM likelihood of each class (slower: one score per class)": "likelihood",
}


def display(text: str) -> str:
    """Chat text for display: the ``<p1> <p2> <bg>`` placeholders as code, not as HTML tags."""
    for tag in ("<p1>", "<p2>", "<bg>"):
        text = text.replace(tag, f"`{tag}`")
    return text


def generation_config(
    temperature: float, top_p: float, beams: float, max_tokens: float, seed: float | None = None
) -> Any:
    """A ``GenerationConfig`` from the slider values (Gradio sends numbers as floats)."""
    from ovhhir_core.model import GenerationConfig

    return GenerationConfig(
        temperature=float(temperature),
        top_p=float(top_p),
        num_beams=int(beams),
        max_new_tokens=int(max_tokens),
        seed=None if seed in (None, "") else int(seed),
    )


class ChatHandlers:
    """Chat tab handlers bound to the process-wide :class:`Services`."""

    def __init__(self, services: Services):
        self.services = services
        self.ask = user_errors(on_gpu(duration=90)(self._ask))
        self.regenerate = user_errors(on_gpu(duration=90)(self._regenerate))
        self.classify = user_errors(on_gpu(duration=120)(self._classify))
        self.describe = user_errors(on_gpu(duration=90)(self._describe))
        self.one_word = user_errors(on_gpu(duration=90)(self._one_word))

    def default_classes(self) -> str:
        """The taxonomy's class names, one per line (default candidates for classify)."""
        try:
            from ovhhir_core.data.taxonomy import load_taxonomy

            return "\n".join(load_taxonomy().class_names(seen=True, unseen=True))
        except (UserError, ImportError) as exc:
            log.warning("taxonomy unavailable: %s", exc)
            return ""

    def model_warning(self) -> gr.update:
        """Show the untrained-branches warning once the model is loaded and untrained."""
        status = self.services.status().get("model")
        if status == "loaded":
            model = self.services.model()
            return gr.update(visible=not model.is_trained, value=UNTRAINED_WARNING)
        return gr.update(visible=False)

    def chat_session(self, state: SessionState, frames: int) -> Any:
        """The user's chat about the tracked clip; rebuilt when the frame count changes."""
        from ovhhir_core.model import ChatSession, load_clip

        streams = {k: state.outputs.get(k) for k in ("person_1", "person_2", "background")}
        if not all(streams.values()):
            raise gr.Error(
                "Track the two people first (Track tab), then ask about them.",
                print_exception=False,
            )
        if state.chat is None or state.chat_frames != frames:
            model = self.services.model()
            clip = load_clip({k: str(v) for k, v in streams.items()}, num_frames=frames)
            state.chat = ChatSession(model, clip)
            state.chat_frames = frames
            state.messages = []
        return state.chat

    def _ask(
        self,
        state: SessionState,
        text: str,
        temperature: float,
        top_p: float,
        beams: float,
        max_tokens: float,
        frames: float,
    ) -> Iterator[tuple]:
        """Ask ``text`` about the clip; yields ``(messages, textbox, warning)`` as tokens arrive."""
        text = (text or "").strip()
        if not text:
            raise gr.Error("Type a question first.", print_exception=False)
        chat = self.chat_session(state, int(frames))
        gen = generation_config(temperature, top_p, beams, max_tokens)
        head = [*state.messages, {"role": "user", "content": display(text)}]
        messages = [*head, {"role": "assistant", "content": ""}]
        yield messages, "", self.model_warning()
        for answer in chat.ask(text, gen):  # the growing answer
            messages = [*head, {"role": "assistant", "content": answer}]
            yield messages, "", gr.update()
        state.messages = messages
        yield messages, "", self.model_warning()

    def _describe(
        self,
        state: SessionState,
        temperature: float,
        top_p: float,
        beams: float,
        max_tokens: float,
        frames: float,
    ) -> Iterator[tuple]:
        """Ask the paper's question (describe the interaction between <p1> and <p2> in <bg>)."""
        from ovhhir_core.model import default_question

        question = default_question(self.services.preset.model.use_background)
        yield from self._ask(state, question, temperature, top_p, beams, max_tokens, frames)

    def _one_word(
        self,
        state: SessionState,
        temperature: float,
        top_p: float,
        beams: float,
        max_tokens: float,
        frames: float,
    ) -> Iterator[tuple]:
        """Ask for the activity in one word (the paper's second question)."""
        from ovhhir_core.data.hhirchat import ONE_WORD_QUESTION

        yield from self._ask(
            state, ONE_WORD_QUESTION, temperature, top_p, beams, max_tokens, frames
        )

    def _regenerate(
        self,
        state: SessionState,
        temperature: float,
        top_p: float,
        beams: float,
        max_tokens: float,
        frames: float,
    ) -> Iterator[tuple]:
        """Answer the last question again (new sample); yields ``(messages, warning)``."""
        if state.chat is None or not state.messages:
            raise gr.Error(
                "Nothing to regenerate yet: ask a question first.", print_exception=False
            )
        gen = generation_config(temperature, top_p, beams, max_tokens)
        head = state.messages[:-1]
        messages = [*head, {"role": "assistant", "content": ""}]
        for answer in state.chat.regenerate(gen):
            messages = [*head, {"role": "assistant", "content": answer}]
            yield messages, gr.update()
        state.messages = messages
        yield messages, self.model_warning()

    def clear(self, state: SessionState) -> list:
        """Forget the conversation (the clip stays)."""
        if state.chat is not None:
            state.chat.clear()
        state.messages = []
        return []

    def _classify(
        self, state: SessionState, candidates: str, method: str, frames: float
    ) -> list[list[Any]]:
        """Rank the user's candidate classes (one per line or comma-separated) for the clip.

        ``method`` is a key of :data:`CLASSIFY_METHODS`. Returns rows ``[rank, class, score]``
        for a ``gr.Dataframe``.
        """
        from ovhhir_core.eval.classify import rank_classes

        names = [c.strip() for line in (candidates or "").splitlines() for c in line.split(",")]
        names = list(dict.fromkeys(n for n in names if n))
        if len(names) < 2:
            raise gr.Error(
                "Give at least two candidate classes (one per line).", print_exception=False
            )
        chat = self.chat_session(state, int(frames))
        how = CLASSIFY_METHODS[method]
        embedder = self.services.embedder() if how == "embedding" else None
        ranked = rank_classes(chat, names, embedder=embedder, method=how)
        return [[i + 1, name, round(float(score), 4)] for i, (name, score) in enumerate(ranked)]
