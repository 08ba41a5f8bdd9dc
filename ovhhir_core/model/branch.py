"""One trainable branch (and the batching of its inputs): frame tokens → frame positions → video Q-Former → LLM embeddings.

Instantiated once per stream (person_1, person_2, background). Everything here trains; the
encoder before it and the LLM after it are frozen. Shapes: B clips, T frames, N tokens per frame,
C encoder width, H Q-Former width, Q query tokens, D LLM hidden size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from transformers import Blip2QFormerConfig, Blip2QFormerModel

from ovhhir_core.model.config import BranchConfig


def collate_features(items: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack per-clip feature dicts (same keys, same T) into a batch: ``(T, ...)`` → ``(B, T, ...)``."""
    if not items:
        raise ValueError("collate_features needs at least one item")
    keys = sorted(items[0])
    for i, item in enumerate(items):
        if sorted(item) != keys:
            raise ValueError(f"feature dict {i} has keys {sorted(item)}, expected {keys}")
    return {k: torch.stack([item[k] for item in items]) for k in keys}


def _qformer(cfg: BranchConfig, layers: int, encoder_width: int) -> Blip2QFormerModel:
    qcfg = Blip2QFormerConfig(
        hidden_size=cfg.qformer_hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=cfg.qformer_heads,
        intermediate_size=cfg.qformer_intermediate_size,
        cross_attention_frequency=cfg.cross_attention_frequency,
        encoder_hidden_size=encoder_width,
        hidden_dropout_prob=cfg.dropout,
        attention_probs_dropout_prob=cfg.dropout,
    )
    return Blip2QFormerModel(qcfg)


def frame_positions(table: torch.Tensor, num_frames: int) -> torch.Tensor:
    """(T, W) frame position embeddings from a learned (max_frames, W) table.

    Up to ``max_frames`` frames use the first rows; more frames linearly interpolate the table
    over time, so any number of frames works.
    """
    max_frames = table.shape[0]
    if num_frames <= max_frames:
        return table[:num_frames]
    stretched = F.interpolate(
        table.t()[None], size=num_frames, mode="linear", align_corners=True
    )  # (1, W, T)
    return stretched[0].t()  # (T, W)


class Branch(nn.Module):
    """Video Q-Former branch of one stream.

    ``forward(tokens (B, T, N, C), present (B, T) bool | None) → (B, Q, D)`` float32.
    Frames with ``present`` False are replaced by one learned ``absent`` token (the others masked
    out), so an absent person is explicit rather than a crop of nothing.
    """

    def __init__(self, cfg: BranchConfig, encoder_width: int, llm_hidden_size: int):
        super().__init__()
        self.cfg = cfg
        hidden = cfg.qformer_hidden_size
        if cfg.image_qformer_layers > 0:
            self.image_queries = nn.Parameter(torch.randn(1, cfg.num_query_tokens, hidden) * 0.02)
            self.image_qformer = _qformer(cfg, cfg.image_qformer_layers, encoder_width)
            width = hidden
        else:
            self.image_queries = None
            self.image_qformer = None
            width = encoder_width
        self.token_width = width
        self.absent = nn.Parameter(torch.randn(width) * 0.02)
        self.frame_position = nn.Parameter(torch.randn(cfg.max_frames, width) * 0.02)
        self.video_queries = nn.Parameter(torch.randn(1, cfg.num_query_tokens, hidden) * 0.02)
        self.video_qformer = _qformer(cfg, cfg.qformer_layers, width)
        self.proj = nn.Linear(hidden, llm_hidden_size)

    @property
    def num_query_tokens(self) -> int:
        return self.cfg.num_query_tokens

    def _per_frame(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, N, C) → (B, T, N', W): identity, or the image Q-Former's Q outputs per frame."""
        if self.image_qformer is None:
            return tokens
        b, t, n, c = tokens.shape
        flat = tokens.reshape(b * t, n, c)  # (B*T, N, C)
        queries = self.image_queries.expand(b * t, -1, -1)  # (B*T, Q, H)
        out = self.image_qformer(query_embeds=queries, encoder_hidden_states=flat).last_hidden_state
        return out.reshape(b, t, -1, out.shape[-1])  # (B, T, Q, H)

    def forward(self, tokens: torch.Tensor, present: torch.Tensor | None = None) -> torch.Tensor:
        param = self.video_queries
        tokens = tokens.to(param.device, param.dtype)
        b, t = tokens.shape[:2]
        if present is None:
            present = torch.ones(b, t, dtype=torch.bool, device=param.device)
        present = present.to(param.device, torch.bool)
        x = self._per_frame(tokens)  # (B, T, N', W)
        n = x.shape[2]
        absent = ~present[:, :, None, None]  # (B, T, 1, 1)
        x = torch.where(absent, self.absent.to(x.dtype), x)  # (B, T, N', W)
        x = x + frame_positions(self.frame_position, t)[None, :, None, :]  # (B, T, N', W)
        x = x.reshape(b, t * n, -1)  # (B, T*N', W)
        keep = present[:, :, None].expand(b, t, n).clone()  # (B, T, N')
        keep[:, :, 0] = True  # absent frames keep exactly one (absent) token
        mask = keep.reshape(b, t * n).long()  # (B, T*N')
        queries = self.video_queries.expand(b, -1, -1)  # (B, Q, H)
        out = self.video_qformer(
            query_embeds=queries, encoder_hidden_states=x, encoder_attention_mask=mask
        ).last_hidden_state  # (B, Q, H)
        return self.proj(out)  # (B, Q, D)
