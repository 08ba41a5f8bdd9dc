"""The OV-HHIR model: frozen encoders → one trainable branch per stream → frozen chat LLM.

The whole forward pass, in order:

1. :meth:`OVHHIRModel.extract_features` — frozen encoders, no grad, all frames of all streams in
   batched passes: ``{"person_1": (T, N, C), "person_1.present": (T,), "person_2": ...,
   "background": (T, N', C')}``. Training caches these.
2. :meth:`OVHHIRModel.embed` — the trainable branches: ``{stream: (B, Q, D)}`` (D = LLM hidden).
3. :meth:`OVHHIRModel.prompt_embeds` / :meth:`OVHHIRModel.training_loss` — the chat template with
   ``<p1>`` ``<p2>`` ``<bg>`` replaced by those Q embeddings, into the frozen LLM.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from ovhhir_core.answering.decoding import stream_text
from ovhhir_core.model import checkpoint as ckpt
from ovhhir_core.model import prompt as P
from ovhhir_core.model.branch import Branch
from ovhhir_core.model.clip import Clip
from ovhhir_core.model.config import ModelConfig
from ovhhir_core.model.encoders import FrameEncoder, encode_clip
from ovhhir_core.model.generation import GenerationConfig, llm_tokens
from ovhhir_core.model.llm import describe_llm, load_llm, placeholder_ids, stop_token_ids
from ovhhir_core.model.scoring import answer_log_probs, pad_batch
from ovhhir_core.streams import PERSONS

log = logging.getLogger(__name__)
#: Seed of random-weight builds, so a ``tiny`` model is the same every time it is built.
RANDOM_BUILD_SEED = 0


class OVHHIRModel(nn.Module):
    """Encoders, branches and LLM of OV-HHIR. Build it with :func:`load_model`.

    Only ``branches`` train (``trainable_state_dict``); encoders and LLM stay frozen in eval mode.
    ``is_trained`` is False until a checkpoint is loaded (answers are then noise: warn the user).
    """

    def __init__(
        self,
        cfg: ModelConfig,
        device: torch.device,
        dtype: torch.dtype,
        preset_name: str = "custom",
    ):
        super().__init__()
        self.cfg = cfg
        self.preset_name = preset_name
        self.device_ = torch.device(device)
        self.dtype_ = dtype
        self.is_trained = False
        self.checkpoint_path: str | None = None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_BUILD_SEED)
            self.person_encoder = FrameEncoder(cfg.person_encoder, "person_encoder")
            self.background_encoder = (
                FrameEncoder(cfg.background_encoder, "background_encoder")
                if cfg.use_background
                else None
            )
            llm, tokenizer = load_llm(cfg.llm, self.device_, dtype)
            self.llm = llm
            self.tokenizer = tokenizer
            self.llm_hidden_size = int(llm.config.hidden_size)
            branches = {
                s: Branch(cfg.branch, self.person_encoder.width, self.llm_hidden_size)
                for s in PERSONS
            }
            if self.background_encoder is not None:
                branches["background"] = Branch(
                    cfg.branch, self.background_encoder.width, self.llm_hidden_size
                )
            self.branches = nn.ModuleDict(branches)
        self.person_encoder.to(self.device_, dtype)
        if self.background_encoder is not None:
            self.background_encoder.to(self.device_, dtype)
        self.branches.to(self.device_)  # branches stay float32 (trainable)
        self.placeholders = placeholder_ids(tokenizer)
        self.stop_ids = stop_token_ids(llm, tokenizer)
        self.train(False)  # inference by default; training code calls model.train()

    # -- bookkeeping --------------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return self.device_

    @property
    def dtype(self) -> torch.dtype:
        """Dtype of the frozen encoders and LLM (the branches stay float32)."""
        return self.dtype_

    @property
    def streams(self) -> list[str]:
        """Streams with a branch: person_1, person_2 (+ background when enabled)."""
        return list(self.branches.keys())

    def train(self, mode: bool = True) -> OVHHIRModel:
        """Only the branches switch mode; encoders and LLM stay in eval mode."""
        self.training = mode
        self.branches.train(mode)
        return self

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.branches.parameters() if p.requires_grad]

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Every trainable tensor, keyed ``<stream>.<param>`` (detached, on CPU)."""
        return {k: v.detach().cpu().clone() for k, v in self.branches.state_dict().items()}

    def _describe(self, preset_name: str | None = None) -> dict:
        """What a checkpoint records about the model it was written from (and is checked with)."""
        return {
            "preset": preset_name or self.preset_name,
            "llm": describe_llm(self.cfg.llm),
            "llm_hidden_size": self.llm_hidden_size,
            "streams": self.streams,
            "model_config": json.loads(json.dumps(dataclasses.asdict(self.cfg))),
        }

    def save_checkpoint(self, directory: str | Path, preset_name: str | None = None) -> Path:
        """Write the trainable tensors + a description of the model (see :mod:`.checkpoint`)."""
        info = self._describe(preset_name)
        return ckpt.save_checkpoint(directory, self.trainable_state_dict(), info)

    def load_checkpoint(self, source: str | Path) -> None:
        """Strictly load trainable tensors from a checkpoint dir or Hub repo id; marks the model
        trained (:class:`~.checkpoint.CheckpointError` when it does not fit)."""
        tensors, info = ckpt.read_checkpoint(source)
        ckpt.check_fits(source, self.branches.state_dict(), tensors, info, self._describe())
        self.branches.load_state_dict(tensors, strict=True)
        self.is_trained = True
        self.checkpoint_path = str(source)
        log.info("loaded checkpoint %s (trained for preset %s)", source, info.get("preset"))

    # -- 1. frozen encoders -------------------------------------------------------------------

    @torch.no_grad()
    def extract_features(self, clip: Clip) -> dict[str, torch.Tensor]:
        """Frozen-encoder tokens of a clip (:func:`.encoders.encode_clip`): ``{"person_1":
        (T, N, C), "person_1.present": (T,) bool, ..., "background": (T, N_bg, C_bg)}``."""
        return encode_clip(self.person_encoder, self.background_encoder, clip)

    # -- 2. trainable branches ----------------------------------------------------------------

    def embed(self, feats: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Branch outputs ``{stream: (B, Q, D)}`` in the LLM dtype from batched features.

        ``feats`` is :func:`collate_features` output (``(B, T, N, C)`` tokens and ``(B, T)``
        presence); unbatched ``(T, N, C)`` features are accepted too (B = 1).
        """
        out = {}
        for stream, branch in self.branches.items():
            tokens = feats[stream]
            present = feats.get(f"{stream}.present")
            if tokens.dim() == 3:
                tokens = tokens[None]  # (1, T, N, C)
                present = None if present is None else present[None]
            out[stream] = branch(tokens, present).to(self.dtype_)  # (B, Q, D)
        return out

    def embed_clip(self, clip: Clip) -> dict[str, torch.Tensor]:
        """``{stream: (Q, D)}`` visual embeddings of one clip, no grad."""
        with torch.no_grad():
            vis = self.embed(self.extract_features(clip))
        return {k: v[0] for k, v in vis.items()}

    # -- 3. LLM -------------------------------------------------------------------------------

    @property
    def _disabled(self) -> tuple[str, ...]:
        return () if self.cfg.use_background else ("background",)

    def _splice(self, ids, visual, labels=None):
        return P.splice(
            self.llm.get_input_embeddings(), ids, visual, self.placeholders, self._disabled, labels
        )

    def _labelled_embeds(
        self, messages: list[dict[str, str]], visual: Mapping[str, torch.Tensor]
    ) -> tuple[torch.Tensor, list[int]]:
        """(L, D) embeddings of a whole chat and its labels (answer ids, -100 elsewhere), cut to
        the LLM's context."""
        messages = P.with_system(messages, self.cfg.llm.system_prompt)
        ids, lab = P.training_ids(self.tokenizer, messages)
        emb, lab, _ = self._splice(ids, visual, lab)
        return emb[: self.max_context], lab[: self.max_context]

    def training_loss(
        self, feats: Mapping[str, torch.Tensor], conversations: Sequence[Sequence[Mapping]]
    ) -> torch.Tensor:
        """Mean cross-entropy over the assistant ("gpt") tokens of a batch; scalar, with grad.

        ``feats``: batched features (B, ...); ``conversations``: B HHIRChat turn lists.
        """
        vis = self.embed(feats)
        pairs = [
            self._labelled_embeds(P.to_messages(conv), {k: v[b] for k, v in vis.items()})
            for b, conv in enumerate(conversations)
        ]
        embeds, mask, target = pad_batch([e for e, _ in pairs], [lab for _, lab in pairs])
        if not (target != P.IGNORE_INDEX).any():
            raise P.PromptError("no assistant (gpt) turn to learn from in this batch")
        return self.llm(inputs_embeds=embeds, attention_mask=mask, labels=target).loss

    @torch.no_grad()
    def score_answers(
        self,
        visual: Mapping[str, torch.Tensor],
        prompt: str,
        answers: Sequence[str],
        batch_size: int = 16,
    ) -> list[float]:
        """Mean per-token log-probability (<= 0) of each answer as the reply to ``prompt``.

        ``visual``: ``{stream: (Q, D)}`` from :meth:`embed_clip`; ``prompt`` may hold the
        placeholders. Each answer is the assistant turn of a one-turn chat (end-of-turn tokens
        included), labelled exactly as :meth:`training_loss` labels it. The prompt they share
        runs once (:func:`.scoring.answer_log_probs`); else ``batch_size`` answers at a time.
        """
        pairs = [
            self._labelled_embeds(
                [{"role": "user", "content": prompt}, {"role": "assistant", "content": a}], visual
            )
            for a in answers
        ]
        return answer_log_probs(
            self.llm, [e for e, _ in pairs], [lab for _, lab in pairs], batch_size
        )

    @property
    def max_context(self) -> int:
        """Prompt + answer token budget of the LLM."""
        if self.cfg.llm.max_context_tokens > 0:
            return self.cfg.llm.max_context_tokens
        return int(getattr(self.llm.config, "max_position_embeddings", 4096))

    def prompt_embeds(
        self, messages: list[dict[str, str]], visual: Mapping[str, torch.Tensor]
    ) -> tuple[torch.Tensor, list[int], list[tuple[int, str]]]:
        """(1, L, D) embeddings of a chat ending with a generation prompt, its text ids, and the
        splice positions ``[(start, stream)]``."""
        messages = P.with_system(messages, self.cfg.llm.system_prompt)
        ids = P.encode(self.tokenizer, P.render(self.tokenizer, messages, True))
        emb, _, where = self._splice(ids, visual)
        return emb[None], ids, where

    @torch.no_grad()  # on a generator: grad is off while it runs, not between yields
    def stream_answer(
        self,
        messages: list[dict[str, str]],
        visual: Mapping[str, torch.Tensor],
        gen: GenerationConfig | None = None,
    ) -> Iterator[str]:
        """Yield the growing answer text to a chat (the last message is the user's)."""
        gen = gen or GenerationConfig()
        emb, ids, _ = self.prompt_embeds(messages, visual)
        tokens = llm_tokens(self.llm, emb, gen, self.stop_ids, context_ids=ids)
        yield from stream_text(tokens, self._decode)

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def generate_text(
        self,
        vis_or_clip: Clip | Mapping[str, torch.Tensor] | None,
        prompt: str,
        gen: GenerationConfig | None = None,
    ) -> str:
        """Answer one question (non-streaming). ``vis_or_clip``: a Clip, ``{stream: (Q, D)}``
        embeddings from :meth:`embed_clip`, or None for text-only chat."""
        if isinstance(vis_or_clip, Clip):
            visual = self.embed_clip(vis_or_clip)
        else:
            visual = dict(vis_or_clip or {})
        answer = ""
        for answer in self.stream_answer([{"role": "user", "content": prompt}], visual, gen):  # noqa: B007
            continue
        return answer


def load_model(
    cfg,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    checkpoint: str | Path | None = None,
    preset_name: str | None = None,
) -> OVHHIRModel:
    """Build the model of a :class:`ModelConfig` (or a whole PresetConfig) and load a checkpoint.

    ``dtype`` None = float32. Weights of each component come through
    :func:`ovhhir_core.hub.resolve_weights`; a ``checkpoint`` (dir or Hub repo id) is loaded
    strictly (:class:`~ovhhir_core.model.checkpoint.CheckpointError` on mismatch).
    """
    if hasattr(cfg, "model") and isinstance(cfg.model, ModelConfig):
        preset_name = preset_name or cfg.name
        cfg = cfg.model
    model = OVHHIRModel(cfg, torch.device(device), dtype or torch.float32, preset_name or "custom")
    if checkpoint is not None:
        model.load_checkpoint(checkpoint)
    else:
        log.info("no checkpoint: the branches are untrained (answers are not grounded)")
    return model
