"""The encoded video of a conversation, and decoding / scoring on top of it.

A conversation's prompt always starts the same way: the chat template's opening and the video
placeholder(s), which the processor expands into the frames' vision tokens. :class:`VideoPrefix`
runs that part once (vision tower + language model) and keeps its key/value cache; every turn,
regeneration and scoring batch continues from a copy of that cache with only its own text tokens,
so the video is encoded once per conversation.

Qwen3-VL places text after a video at multimodal-RoPE positions shifted by a per-prompt offset;
the prefix keeps its own offset and passes explicit positions (the model's cached
``rope_deltas`` are shared by every user of the model, so they are never relied on). Decoding
(greedy, sampling, beam search) is the shared loop of :mod:`ovhhir_core.answering.decoding`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ovhhir_core.answering.base import GenerationConfig
from ovhhir_core.answering.decoding import generate_tokens
from ovhhir_core.errors import UserError

from .families import FrameGeometry
from .frames import letterbox
from .loading import LoadedModel

#: Candidates scored in one forward pass.
SCORE_BATCH = 16
#: Prompt tokens kept free for the text around the video(s), the turns and the answer.
TEXT_RESERVE = 1024


def _check_context(loaded: LoadedModel, geometry: FrameGeometry, frames: int) -> None:
    """A :class:`UserError` when ``frames`` frames at ``geometry`` leave no room for the text."""
    config = loaded.model.config
    text = getattr(config, "text_config", config)
    context = getattr(text, "max_position_embeddings", None)
    need = math.ceil(geometry.tokens_per_frame * frames)
    if context and need + TEXT_RESERVE > context:
        raise UserError(
            f"{frames} frames x {geometry.tokens_per_frame:g} tokens per frame = {need} tokens "
            f"leave too little of {loaded.model_id}'s {context}-token context for the text; "
            "use fewer frames or a smaller zeroshot.frame_size"
        )


class VideoPrefix:
    """The prompt's opening through the last video placeholder, encoded once.

    Each video's frames are first letterboxed to the family's :class:`.families.FrameGeometry`
    (``frame_size`` None: the processor's own input size), so the processor resizes nothing and
    shapes stay true; frames x tokens per frame must fit the text model's context.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        prefix_text: str,
        videos: Sequence[np.ndarray],
        metadata: Sequence[dict],
        frame_size: int | None = None,
    ):
        self.loaded = loaded
        self.text = prefix_text
        spec = loaded.spec
        first = videos[0]  # (T, H, W, 3) uint8
        self.geometry = spec.geometry(loaded.processor, frame_size, len(first), first.shape[1:3])
        _check_context(loaded, self.geometry, sum(len(v) for v in videos))
        videos = [letterbox(v, self.geometry.height, self.geometry.width) for v in videos]
        kwargs: dict[str, Any] = {"video_metadata": list(metadata), "do_sample_frames": False}
        kwargs["add_special_tokens"] = False  # the chat template already wrote them
        kwargs.update(self.geometry.processor_kwargs)
        inputs = loaded.processor(
            text=[prefix_text], videos=list(videos), return_tensors="pt", **kwargs
        )
        self.inputs = inputs  # kept for inspection (pixel values shape, frame count)
        model = loaded.model
        device = loaded.device
        batch = {k: v.to(device) for k, v in inputs.items() if isinstance(v, torch.Tensor)}
        for key in ("pixel_values", "pixel_values_videos"):
            if key in batch:
                batch[key] = batch[key].to(model.dtype)
        self.ids = batch["input_ids"]
        self.rope_delta = None
        position_ids = None
        if spec.rope_index:
            position_ids, self.rope_delta = model.model.get_rope_index(
                batch["input_ids"],
                video_grid_thw=batch.get("video_grid_thw"),
                attention_mask=batch["attention_mask"],
                mm_token_type_ids=batch["mm_token_type_ids"],
            )
        with torch.inference_mode():
            # only the cache is kept: the output head runs on the last position alone
            out = model(**batch, position_ids=position_ids, use_cache=True, logits_to_keep=1)
        self.cache = out.cache

    @property
    def length(self) -> int:
        return self.ids.shape[1]

    def fresh_cache(self, batch: int = 1):
        """A copy of the prefix cache, repeated ``batch`` times."""
        cache = copy.deepcopy(self.cache)
        if batch > 1:
            cache.batch_repeat_interleave(batch)
        return cache

    def forward(self, ids: torch.Tensor, cache, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits for ``ids`` (B, L) continuing ``cache``; ``mask`` (B, cached + L) or None."""
        b, n = ids.shape
        past = cache.get_seq_length()
        if mask is None:
            mask = torch.ones(b, past + n, dtype=torch.long, device=ids.device)
        position_ids = None
        if self.rope_delta is not None:
            pos = torch.arange(past, past + n, device=ids.device) + self.rope_delta.to(ids.device)
            position_ids = pos.view(1, -1, n).expand(3, b, n)
        out = self.loaded.model(
            input_ids=ids, cache=cache, attention_mask=mask, position_ids=position_ids
        )
        return out.logits


@torch.inference_mode()  # on a generator: on while it runs, not between yields
def stream_tokens(
    prefix: VideoPrefix, text_ids: list[int], gen: GenerationConfig, stop_ids: Sequence[int]
) -> Iterator[int]:
    """New token ids one by one after the prefix and ``text_ids`` (stop ids are not yielded),
    decoded by :func:`ovhhir_core.answering.decoding.generate_tokens` (``gen``: greedy,
    sampled or beam search)."""
    gen.validate()
    cache = prefix.fresh_cache()
    ids = torch.tensor([text_ids], device=prefix.loaded.device)  # (1, n)
    logits = prefix.forward(ids, cache)[:, -1]  # (1, V)

    def step(new: torch.Tensor, cache) -> torch.Tensor:
        return prefix.forward(new, cache)[:, -1]

    yield from generate_tokens(step, cache, logits, gen, stop_ids, context_ids=text_ids)


@torch.inference_mode()
def score_answers(
    prefix: VideoPrefix, question_ids: list[int], answers: Sequence[list[int]]
) -> list[float]:
    """Mean log-probability of each answer's tokens after the prefix and ``question_ids``."""
    if not question_ids:
        raise UserError("the question to score answers against is empty")
    scores: list[float] = []
    device = prefix.loaded.device
    q = len(question_ids)
    for start in range(0, len(answers), SCORE_BATCH):
        chunk = [list(a) for a in answers[start : start + SCORE_BATCH]]
        longest = max(len(a) for a in chunk)
        ids = torch.zeros(len(chunk), q + longest, dtype=torch.long, device=device)
        mask = torch.zeros(len(chunk), prefix.length + q + longest, dtype=torch.long, device=device)
        for row, answer in enumerate(chunk):
            ids[row, : q + len(answer)] = torch.tensor(question_ids + answer)
            mask[row, : prefix.length + q + len(answer)] = 1
        logp = prefix.forward(ids, prefix.fresh_cache(len(chunk)), mask).float().log_softmax(-1)
        for row, answer in enumerate(chunk):
            if not answer:
                scores.append(float("-inf"))
                continue
            targets = torch.tensor(answer, device=device)
            picked = logp[row, q - 1 : q - 1 + len(answer)].gather(1, targets[:, None])
            scores.append(float(picked.mean()))
    return scores
