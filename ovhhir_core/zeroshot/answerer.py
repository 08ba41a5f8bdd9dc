"""The zero-shot answerer: a pretrained video-LLM that sees the clip with both people marked.

``ZeroShotAnswerer`` (shared, read-only; name ``"zeroshot"``) opens one
``ZeroShotConversation`` per user and clip: the clip is sampled uniformly, rebuilt from its
streams, the two people marked (:mod:`.marks`), and the video(s) encoded once
(:class:`.engine.VideoPrefix`). Turns stream the growing answer; ``score`` ranks candidate answers
by their mean token log-probability (what classification uses).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ovhhir_core.answering.base import Conversation, GenerationConfig, Provenance, TrackedClip
from ovhhir_core.answering.decoding import stream_text
from ovhhir_core.errors import UserError
from ovhhir_core.streams import BACKGROUND, PERSONS

from .config import ZeroShotConfig, check_frames
from .engine import VideoPrefix, score_answers, stream_tokens
from .frames import SampledClip, sample_clip
from .loading import LoadedModel
from .marks import mark_frames
from .prompts import facts_block, first_message_text, rewrite

log = logging.getLogger(__name__)

UNGROUNDED = (
    "random weights (no pretrained video-LLM loaded): these answers are noise, not about the video"
)


class ZeroShotAnswerer:
    """A shared zero-shot video-LLM (see the module docstring)."""

    name = "zeroshot"

    def __init__(self, loaded: LoadedModel, cfg: ZeroShotConfig, preset_name: str):
        self.loaded = loaded
        self.cfg = cfg
        self.preset_name = preset_name
        self.stop_ids = loaded.stop_ids()

    def provenance(self, frames: int | None = None, facts: bool = False) -> Provenance:
        return Provenance(
            answerer=self.name,
            model_id=f"{self.loaded.model_id} ({self.loaded.precision})",
            preset=self.preset_name,
            grounded=self.loaded.grounded,
            frames=frames or self.cfg.frames,
            warning=None if self.loaded.grounded else UNGROUNDED,
            facts_in_prompt=facts,
        )

    def open(
        self,
        clip: TrackedClip,
        frames: int | None = None,
        use_facts: bool = True,
        three_streams: bool | None = None,
        sampled: SampledClip | None = None,
    ) -> ZeroShotConversation:
        """Sample ``frames`` frames of ``clip`` (default: the preset's), mark both people and
        encode the video(s); ``three_streams`` (default: the preset's) adds the three stream
        videos for models that take several videos (Qwen3-VL). ``sampled``: the clip already
        sampled (:func:`.frames.sample_ahead`), used when it has ``frames`` frames."""
        frames = check_frames(frames or self.cfg.frames)
        multi = self.loaded.spec.multi_video
        if three_streams and not multi:
            raise UserError(
                f"{self.loaded.model_id} ({self.loaded.spec.label}) takes one video per prompt; "
                "passing the three streams needs a Qwen3-VL model (preset paper)"
            )
        if three_streams is None:
            three_streams = self.cfg.three_streams and multi
        if sampled is None or len(sampled.indices) != frames:
            sampled = sample_clip(clip, frames, max_side=self.cfg.max_side)
        facts = facts_block(clip.facts) if use_facts else None
        return ZeroShotConversation(self, sampled, three_streams, facts)


class ZeroShotConversation(Conversation):
    """One user's conversation about one clip; the video is encoded once, here. History,
    ``ask``, ``regenerate`` and ``clear`` come from :class:`Conversation`."""

    def __init__(
        self,
        answerer: ZeroShotAnswerer,
        sampled: SampledClip,
        three_streams: bool,
        facts: str | None,
    ):
        super().__init__(answerer.provenance(len(sampled.indices), facts is not None), facts)
        self.answerer = answerer
        self.sampled = sampled
        self.three_streams = three_streams
        self.frames = mark_frames(sampled.frames, sampled.labels)
        videos = [self.frames]
        if three_streams:
            videos += [sampled.streams[s] for s in (*PERSONS, BACKGROUND) if s in sampled.streams]
        self.n_videos = len(videos)
        prefix_text = self._render([{"role": "user", "content": "?"}]).split("\x00")[0]
        self.prefix = VideoPrefix(
            answerer.loaded,
            prefix_text,
            videos,
            [sampled.metadata()] * len(videos),
            answerer.cfg.frame_size,
        )

    def _render(self, turns: list[dict[str, str]]) -> str:
        """The chat template over ``turns``; a NUL marks the end of the video placeholders."""
        processor = self.answerer.loaded.processor
        spec = self.answerer.loaded.spec
        messages = []
        for i, turn in enumerate(turns):
            if i == 0:
                text = first_message_text(turn["content"], self.three_streams, self._facts)
                content = [dict(spec.video_item) for _ in range(self.n_videos)]
                content.append({"type": "text", "text": text})
            else:
                text = rewrite(turn["content"]) if turn["role"] == "user" else turn["content"]
                content = [{"type": "text", "text": text}]
            messages.append({"role": turn["role"], "content": content})
        rendered = processor.apply_chat_template(
            messages,
            chat_template=spec.template(processor),
            tokenize=False,
            add_generation_prompt=True,
        )
        cut = rendered.rfind(processor.video_token)
        if cut < 0:
            raise UserError(f"the chat template of {self.provenance.model_id} shows no video")
        cut += len(processor.video_token)
        return rendered[:cut] + "\x00" + rendered[cut:]

    def _text_ids(self, turns: list[dict[str, str]]) -> list[int]:
        prefix, _, rest = self._render(turns).partition("\x00")
        if prefix != self.prefix.text:
            raise UserError("the chat template changes the text before the video between turns")
        tokenizer = self.answerer.loaded.processor.tokenizer
        return tokenizer(rest, add_special_tokens=False)["input_ids"]

    def _stream(self, history: list[dict[str, str]], gen: GenerationConfig) -> Iterator[str]:
        ids = self._text_ids(history)
        tokens = stream_tokens(self.prefix, ids, gen, self.answerer.stop_ids)
        yield from stream_text(tokens, self._decode, strip=True)

    def _decode(self, ids: list[int]) -> str:
        return self.answerer.loaded.processor.tokenizer.decode(ids, skip_special_tokens=True)

    def _score(self, question: str, answers: list[str]) -> list[float]:
        """Mean per-token log-probability of each answer, scored in batches."""
        tokenizer = self.answerer.loaded.processor.tokenizer
        question_ids = self._text_ids([{"role": "user", "content": question}])
        answer_ids = [tokenizer(a, add_special_tokens=False)["input_ids"] for a in answers]
        return score_answers(self.prefix, question_ids, answer_ids)


def load_zeroshot_answerer(preset: Any, device: Any = "cpu", dtype: Any = None) -> ZeroShotAnswerer:
    """The zero-shot answerer of ``preset`` (its ``zeroshot`` section) on ``device``.

    Raises :class:`~ovhhir_core.weights.hub.MissingWeightsError` when the weights cannot be had.
    """
    from .loading import load_model

    cfg = preset.zeroshot
    return ZeroShotAnswerer(load_model(cfg, device, dtype), cfg, preset.name)
