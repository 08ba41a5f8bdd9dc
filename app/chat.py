"""The Chat tab: ask (streamed), describe, one word, regenerate, clear, classify.

The chat is about the clip the user tracked on the Track tab: its three streams (person 1, person 2,
background) are sampled to the chosen frames per stream and given to the model. Answers are
streamed: each asking handler is a generator that yields the growing ``gr.Chatbot`` message list.
Handlers receive the generation sliders' values as ``*settings`` and read them with
:meth:`GenerationSettings.parse`.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from app.common import (
    GenerationSettings,
    display,
    fail,
    gpu_queue,
    provenance_markdown,
    user_errors,
)
from app.prepare import Preparer, preparing_line, tracked_clip
from app.state import Services, SessionState, on_gpu
from app.timeline import build_facts_panel
from ovhhir_core.errors import UserError
from ovhhir_core.streams import ONE_WORD_QUESTION, STREAMS, describe_question

log = logging.getLogger(__name__)

#: Classify box methods (``ovhhir_core.eval.classify.rank_classes``): label -> method.
CLASSIFY_METHODS = {
    "Description similarity (fast: one answer, then sentence embeddings)": "embedding",
    "LLM likelihood of each class (slower: one score per class)": "likelihood",
}


class ChatHandlers:
    """Chat tab handlers bound to the process-wide :class:`Services`."""

    def __init__(self, services: Services):
        self.services = services
        self.preparer = Preparer(services)
        self.prepare = user_errors(on_gpu(duration=90)(self.preparer.start))
        self.drop_prepared = self.preparer.drop
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

    def provenance(self) -> str:
        """Who will answer (once the answerer is loaded), with its warning when not grounded."""
        if self.services.status().get("answerer") != "loaded":
            return ""
        return provenance_markdown(self.services.answerer().provenance())

    def conversation(self, state: SessionState, frames: int, use_facts: bool = True) -> Any:
        """The user's conversation about the tracked clip (an
        ``ovhhir_core.answering.Conversation``) with its label maps and, when ``use_facts``, the
        timeline's measured facts in the prompt; reopened when either setting changes."""
        streams = {k: state.outputs.get(k) for k in STREAMS}
        if not all(streams.values()):
            fail("Track the two people first (Track tab), then ask about them.")
        key = (frames, bool(use_facts))
        if state.conversation is None or state.conversation_key != key:
            answerer = self.services.answerer()
            clip = tracked_clip(state)
            state.conversation = answerer.open(clip, frames=frames, use_facts=bool(use_facts))
            state.conversation_key = key
            state.messages = []
        return state.conversation

    def _ask(
        self, state: SessionState, text: str, use_facts: bool, *settings: float
    ) -> Iterator[tuple]:
        """Ask ``text`` about the clip; yields ``(messages, textbox, provenance)`` as the answer
        grows. ``use_facts``: put the timeline's measured facts into the prompt."""
        text = (text or "").strip()
        if not text:
            fail("Type a question first.")
        gen = GenerationSettings.parse(settings)
        head = [*state.messages, {"role": "user", "content": display(text)}]

        def start() -> tuple[Any, Iterator[str]]:
            conversation = self.conversation(state, gen.frames, use_facts)
            return conversation, conversation.ask(text, gen.config)  # the growing answer

        for messages, shown in self._reply(state, head, gen, start):
            yield messages, "", shown

    def _reply(
        self, state: SessionState, head: list, gen: Any, start: Callable[[], tuple[Any, Any]]
    ) -> Iterator[tuple[list, str]]:
        """Stream the answer ``start()`` begins (it returns the conversation and its growing
        answers, and runs in the answer job) after the messages ``head``; yields ``(messages,
        provenance)`` and keeps the last messages on ``state``."""
        pieces: queue.SimpleQueue = queue.SimpleQueue()
        for percent in self.preparer.wait(state):  # the clip is being encoded: use that
            yield [*head, {"role": "assistant", "content": preparing_line(percent)}], ""

        def work(job: Any) -> Any:
            conversation, answers = start()
            for done, answer in enumerate(answers, 1):
                pieces.put(answer)
                job.step(done, gen.config.max_new_tokens)
            return conversation

        messages = [*head, {"role": "assistant", "content": ""}]
        for shown, answer in self._answering(state, work, pieces):
            messages = [*head, {"role": "assistant", "content": answer or ""}]
            yield messages, shown
        state.messages = messages

    def _answering(
        self, state: SessionState, work: Any, pieces: queue.SimpleQueue
    ) -> Iterator[tuple[str, str]]:
        """Run ``work`` (which puts each growing answer into ``pieces`` and returns the
        conversation) as an answer job; yield ``(provenance, answer so far)`` for every piece, in
        order: while it waits, the answer is its place in line and an estimate."""
        job = self.services.jobs.submit(state.sid, "answer", work)
        opened = False  # the empty answer the stream grows from was shown
        answer = ""
        try:
            while True:
                try:
                    answer = pieces.get(timeout=0.25)
                except queue.Empty:
                    if job.finished:
                        break
                    if job.state == "queued":
                        yield "", f"_{job.describe()}_"  # place in line
                    elif state.conversation is not None and not opened:
                        opened = True  # opened: its provenance comes before the first word
                        yield provenance_markdown(state.conversation.provenance), ""
                    continue
                shown = provenance_markdown(state.conversation.provenance)
                if not opened:
                    opened = True
                    yield shown, ""
                yield shown, display(answer)
        finally:  # the page went away mid-answer: stop generating for no one
            if not job.finished:
                job.cancel()
        shown = provenance_markdown(job.result().provenance)
        if not opened:
            yield shown, ""
        yield shown, display(answer)

    def _describe(self, state: SessionState, use_facts: bool, *settings: float) -> Iterator[tuple]:
        """Ask the paper's question (describe the interaction between <p1> and <p2> in <bg>)."""
        question = describe_question(self.services.preset.model.use_background)
        yield from self._ask(state, question, use_facts, *settings)

    def _one_word(self, state: SessionState, use_facts: bool, *settings: float) -> Iterator[tuple]:
        """Ask for the activity in one word (the paper's second question)."""
        yield from self._ask(state, ONE_WORD_QUESTION, use_facts, *settings)

    def _regenerate(self, state: SessionState, *settings: float) -> Iterator[tuple]:
        """Answer the last question again (new sample); yields ``(messages, provenance)``."""
        conversation = state.conversation
        if conversation is None or not state.messages:
            fail("Nothing to regenerate yet: ask a question first.")
        gen = GenerationSettings.parse(settings)

        def start() -> tuple[Any, Iterator[str]]:
            return conversation, conversation.regenerate(gen.config)

        yield from self._reply(state, state.messages[:-1], gen, start)

    def clear(self, state: SessionState) -> list:
        """Forget the conversation (the clip stays)."""
        if state.conversation is not None:
            state.conversation.clear()
        state.messages = []
        return []

    def show(self, state: SessionState) -> list:
        """The conversation as it stands (empty once the tracked result changed)."""
        return state.messages

    def _classify(
        self,
        state: SessionState,
        candidates: str,
        method: str,
        frames: float,
        use_facts: bool = True,
    ) -> list[list[Any]]:
        """Rank the user's candidate classes (one per line or comma-separated) for the clip.

        ``method`` is a key of :data:`CLASSIFY_METHODS`. Returns rows ``[rank, class, score]``
        for a ``gr.Dataframe``.
        """
        from ovhhir_core.eval.classify import rank_classes

        names = [c.strip() for line in (candidates or "").splitlines() for c in line.split(",")]
        names = list(dict.fromkeys(n for n in names if n))
        if len(names) < 2:
            fail("Give at least two candidate classes (one per line).")
        how = CLASSIFY_METHODS[method]

        def work(_job: Any) -> list:
            conversation = self.conversation(state, int(frames), use_facts)
            embedder = self.services.embedder() if how == "embedding" else None
            return rank_classes(conversation, names, embedder=embedder, method=how)

        for _ in self.preparer.wait(state):  # the clip is being encoded: use that
            pass
        ranked = self.services.jobs.run(state.sid, "answer", work)
        return [[i + 1, name, round(float(score), 4)] for i, (name, score) in enumerate(ranked)]


@dataclass
class ChatTab:
    """What the page wires across tabs: the handlers, the conversation and its provenance."""

    handlers: ChatHandlers
    chatbot: gr.Chatbot
    provenance: gr.Markdown
    facts: gr.Markdown | None = None  # the measured facts of the tracked clip
    preparing: gr.Markdown | None = None  # "Preparing the video for questions … n%"
    prepare_inputs: list | None = None  # frames slider and facts checkbox (for the preparation)


def build_chat(services: Services, state: gr.State) -> ChatTab:
    """The Chat tab's layout and events (inside the caller's ``gr.Tab``)."""
    ch = ChatHandlers(services)
    gpu = gpu_queue(services)
    with gr.Row():
        with gr.Column(scale=2):
            chatbot = gr.Chatbot(label="Chat about the tracked clip", elem_id="chatbot", height=420)
            provenance = gr.Markdown("", elem_id="provenance")
            preparing = gr.Markdown("", elem_id="preparing")
            question = gr.Textbox(
                placeholder="Ask about <p1>, <p2> and <bg>…", show_label=False, elem_id="question"
            )
            with gr.Row():
                send_btn = gr.Button("Send", variant="primary", elem_id="send-btn")
                describe_btn = gr.Button("Describe the interaction", elem_id="describe")
                word_btn = gr.Button("In one word", elem_id="one-word")
                regen_btn = gr.Button("Regenerate")
                clear_btn = gr.Button("Clear")
        with gr.Column(scale=1):
            settings = GenerationSettings()
            use_facts = gr.Checkbox(
                True,
                label="Ground answers in the measured facts (timeline text in the prompt)",
                elem_id="use-facts",
            )
            candidates = gr.Textbox(
                ch.default_classes(), lines=6, label="Candidate classes (one per line)"
            )
            method = gr.Radio(
                list(CLASSIFY_METHODS), value=next(iter(CLASSIFY_METHODS)), label="Ranking"
            )
            classify_btn = gr.Button("Classify", elem_id="classify")
            ranking = gr.Dataframe(
                headers=["rank", "class", "score"], interactive=False, label="Ranked classes"
            )
            facts = build_facts_panel()
    gen = settings.inputs
    out = [chatbot, question, provenance]
    ask_in = [state, question, use_facts, *gen]
    send_btn.click(ch.ask, ask_in, out, api_name="ask", **gpu)
    question.submit(ch.ask, ask_in, out, api_visibility="private", **gpu)
    describe_btn.click(ch.describe, [state, use_facts, *gen], out, api_name="describe", **gpu)
    word_btn.click(ch.one_word, [state, use_facts, *gen], out, api_name="one_word", **gpu)
    regen_btn.click(
        ch.regenerate, [state, *gen], [chatbot, provenance], api_name="regenerate", **gpu
    )
    clear_btn.click(ch.clear, [state], chatbot, api_name="clear_chat")
    classify_in = [state, candidates, method, settings.frames, use_facts]
    classify_btn.click(ch.classify, classify_in, ranking, api_name="classify", **gpu)
    return ChatTab(
        handlers=ch,
        chatbot=chatbot,
        provenance=provenance,
        facts=facts,
        preparing=preparing,
        prepare_inputs=[settings.frames, use_facts],
    )
