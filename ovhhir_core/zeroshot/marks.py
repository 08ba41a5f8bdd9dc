"""Marking the two people on the frames a zero-shot model sees.

Each person gets a filled tint and an outline in their own colour, and a small numbered label
beside them, so the prompt can say "Person 1 (red)" and the model can find who is meant. The
colours are pure hues a model can name; their names are said in the prompt.
"""

from __future__ import annotations

import cv2
import numpy as np

from ovhhir_core.streams import DISPLAY_NAMES, LABEL_VALUES, PERSONS

#: Mark colour of each person: (colour name said in the prompt, RGB).
MARK_COLOURS = {"person_1": ("red", (255, 0, 0)), "person_2": ("blue", (0, 64, 255))}
#: Opacity of the filled tint.
TINT_ALPHA = 0.35


def person_words(person: str) -> str:
    """How the prompt names a person, e.g. ``Person 1 (red)``."""
    return f"{DISPLAY_NAMES[person]} ({MARK_COLOURS[person][0]})"


def _thickness(shape: tuple[int, ...]) -> int:
    return max(2, round(max(shape[:2]) / 160))


def _outline(mask: np.ndarray, thickness: int) -> np.ndarray:
    kernel = np.ones((2 * thickness + 1, 2 * thickness + 1), np.uint8)
    return mask & ~cv2.erode(mask.astype(np.uint8), kernel).astype(bool)


def _label(frame: np.ndarray, mask: np.ndarray, text: str, colour: tuple[int, int, int]) -> None:
    """A small filled box with white ``text`` just above the person's top (inside the frame)."""
    ys, xs = np.nonzero(mask)
    h, w = frame.shape[:2]
    scale = max(0.35, max(h, w) / 900)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    pad = 2
    x = int(np.clip(xs.mean() - tw / 2, 0, max(0, w - tw - 2 * pad)))
    y = int(np.clip(ys.min() - th - base - 2 * pad - 2, 0, max(0, h - th - base - 2 * pad)))
    cv2.rectangle(frame, (x, y), (x + tw + 2 * pad, y + th + base + 2 * pad), colour, -1)
    cv2.putText(
        frame, text, (x + pad, y + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1
    )


def mark_frame(frame: np.ndarray, label_map: np.ndarray) -> np.ndarray:
    """A copy of ``frame`` (H, W, 3 uint8 RGB) with both people tinted, outlined and labelled."""
    out = frame.astype(np.float32)
    thickness = _thickness(frame.shape)
    masks = {p: label_map == LABEL_VALUES[p] for p in PERSONS}
    for person, mask in masks.items():
        colour = np.asarray(MARK_COLOURS[person][1], np.float32)
        out[mask] = (1 - TINT_ALPHA) * out[mask] + TINT_ALPHA * colour
        out[_outline(mask, thickness)] = colour
    out = out.round().astype(np.uint8)
    for person, mask in masks.items():
        if mask.any():
            number = DISPLAY_NAMES[person].split()[-1]
            _label(out, mask, number, MARK_COLOURS[person][1])
    return out


def mark_frames(frames: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """:func:`mark_frame` over (T, H, W, 3) frames and (T, H, W) label maps."""
    return np.stack([mark_frame(f, m) for f, m in zip(frames, labels, strict=True)])
