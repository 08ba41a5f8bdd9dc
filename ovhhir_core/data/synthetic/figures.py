"""Drawn stick/blob figures and backgrounds for the synthetic interaction generator.

A figure is drawn from a :class:`Pose` (side view: hip point, facing, joint angles) with OpenCV
primitives, without anti-aliasing, into the RGB frame *and* with the same primitives into the label
map, so the label map is exactly the set of pixels the figure covers (later figures occlude
earlier ones in both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

# Body proportions as fractions of the figure's height ``h`` (head top to feet).
TORSO, NECK, HEAD_R = 0.30, 0.02, 0.075
UPPER_ARM, FOREARM, THIGH, SHIN = 0.16, 0.15, 0.23, 0.23
HIP_HEIGHT = THIGH + SHIN  # hip above the ground when standing straight

#: Base shirt hues (OpenCV hue, 0-179) for person 1, 2, 3, 4, ...: red, blue, green, purple.
PERSON_HUES = (0, 110, 60, 145, 25, 90)


@dataclass(frozen=True)
class Arm:
    """Shoulder angle (degrees from hanging down, positive = forward/up) and elbow bend."""

    shoulder: float = 8.0
    elbow: float = 10.0


@dataclass(frozen=True)
class Leg:
    """Hip angle (degrees from straight down, positive = forward) and knee bend (backward)."""

    hip: float = 0.0
    knee: float = 0.0


@dataclass(frozen=True)
class Pose:
    """A figure's pose. ``x`` is the hip's x in pixels, ``facing`` +1 (right) or -1 (left),
    ``lean`` the torso's tilt in degrees (positive = forward), ``lift`` raises the hip (pixels).
    """

    x: float
    facing: int = 1
    lean: float = 0.0
    near_arm: Arm = Arm()
    far_arm: Arm = Arm(-8.0, 10.0)
    near_leg: Leg = Leg()
    far_leg: Leg = Leg()
    lift: float = 0.0

    def mirrored(self, cx: float) -> Pose:
        """The pose reflected about the vertical line ``x = cx``."""
        return replace(self, x=2 * cx - self.x, facing=-self.facing)


@dataclass(frozen=True)
class Figure:
    """What is drawn for one person: size, ground line, palette and label value."""

    h: float  # height in pixels
    ground: float  # y of the feet
    label: int  # value written into the label map (1, 2, 3, ...)
    palette: dict[str, tuple[int, int, int]]


def make_palette(person_index: int, rng: np.random.Generator) -> dict[str, tuple[int, int, int]]:
    """Distinct RGB colours for shirt, trousers and skin of person ``person_index`` (0-based)."""
    hue = (PERSON_HUES[person_index % len(PERSON_HUES)] + int(rng.integers(-6, 7))) % 180

    def hsv(h: int, s: int, v: int) -> tuple[int, int, int]:
        rgb = cv2.cvtColor(np.uint8([[[h, s, v]]]), cv2.COLOR_HSV2RGB)[0, 0]
        return tuple(int(c) for c in rgb)

    skin_v = int(rng.integers(150, 230))
    return {
        "shirt": hsv(hue, 220, 235),
        "shirt_far": hsv(hue, 220, 160),
        "trousers": hsv((hue + 8) % 180, 160, 120),
        "trousers_far": hsv((hue + 8) % 180, 160, 80),
        "skin": hsv(12, 120, skin_v),
    }


def _dir(angle_deg: float, facing: int) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array([facing * math.sin(a), math.cos(a)])  # y points down


def joints(pose: Pose, fig: Figure) -> dict[str, np.ndarray]:
    """Pixel coordinates (x, y) of the figure's joints for ``pose``."""
    h = fig.h
    hip = np.array([pose.x, fig.ground - HIP_HEIGHT * h - pose.lift])
    up = -_dir(-pose.lean, pose.facing)  # torso direction, hip → shoulder
    shoulder = hip + up * TORSO * h
    out = {"hip": hip, "shoulder": shoulder, "head": shoulder + up * (NECK + HEAD_R) * h}
    for side, arm in (("near", pose.near_arm), ("far", pose.far_arm)):
        elbow = shoulder + _dir(arm.shoulder, pose.facing) * UPPER_ARM * h
        out[f"{side}_elbow"] = elbow
        out[f"{side}_hand"] = elbow + _dir(arm.shoulder + arm.elbow, pose.facing) * FOREARM * h
    for side, leg in (("near", pose.near_leg), ("far", pose.far_leg)):
        knee = hip + _dir(leg.hip, pose.facing) * THIGH * h
        out[f"{side}_knee"] = knee
        out[f"{side}_foot"] = knee + _dir(leg.hip - leg.knee, pose.facing) * SHIN * h
    return out


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def draw_figure(frame: np.ndarray, labels: np.ndarray, pose: Pose, fig: Figure) -> None:
    """Draw ``pose`` into ``frame`` ((H, W, 3) uint8 RGB) and ``fig.label`` into ``labels``.

    Both images receive identical primitives (no anti-aliasing), so ``labels == fig.label`` is
    exactly where this figure's colours were written.
    """
    j = joints(pose, fig)
    h, pal = fig.h, fig.palette
    limb = max(2, int(round(0.05 * h)))
    body = max(3, int(round(0.11 * h)))
    hand_r = max(1, int(round(0.03 * h)))
    foot = np.array([pose.facing * 0.06 * h, 0.0])
    ops = []  # (kind, args, colour name); drawn back to front
    for side in ("far", "near"):
        leg_col = "trousers_far" if side == "far" else "trousers"
        ops += [
            ("line", (j["hip"], j[f"{side}_knee"], limb + 1), leg_col),
            ("line", (j[f"{side}_knee"], j[f"{side}_foot"], limb + 1), leg_col),
            ("line", (j[f"{side}_foot"], j[f"{side}_foot"] + foot, limb), leg_col),
        ]
        if side == "far":
            ops += [
                ("line", (j["shoulder"], j["far_elbow"], limb), "shirt_far"),
                ("line", (j["far_elbow"], j["far_hand"], limb), "shirt_far"),
                ("circle", (j["far_hand"], hand_r), "skin"),
            ]
    ops += [
        ("line", (j["hip"], j["shoulder"], body), "shirt"),
        ("circle", (j["head"], max(2, int(round(HEAD_R * h)))), "skin"),
        ("line", (j["shoulder"], j["near_elbow"], limb), "shirt"),
        ("line", (j["near_elbow"], j["near_hand"], limb), "shirt"),
        ("circle", (j["near_hand"], hand_r), "skin"),
    ]
    for kind, args, colour in ops:
        for img, value in ((frame, pal[colour]), (labels, int(fig.label))):
            if kind == "line":
                cv2.line(img, _pt(args[0]), _pt(args[1]), value, args[2], cv2.LINE_8)
            else:
                cv2.circle(img, _pt(args[0]), args[1], value, -1, cv2.LINE_8)


def make_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A random background, (H, W, 3) uint8: gradient, smooth noise, rectangles, or a mix."""
    kind = rng.choice(["gradient", "noise", "rects", "gradient+rects", "noise+rects"])
    if kind.startswith("gradient"):
        c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        u = xx * math.cos(ang) / width + yy * math.sin(ang) / height
        u = (u - u.min()) / max(1e-6, float(u.max() - u.min()))  # (H, W) in [0, 1]
        img = c0[None, None] * (1 - u[..., None]) + c1[None, None] * u[..., None]
    elif kind.startswith("noise"):
        small = rng.integers(0, 256, (max(2, height // 24), max(2, width // 24), 3)).astype(
            np.uint8
        )
        img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        img = 0.5 * img + 0.5 * rng.integers(60, 200, 3)  # tone the colours down
        img += rng.normal(0, 8, img.shape)
    else:
        img = np.broadcast_to(rng.integers(40, 220, 3), (height, width, 3)).astype(np.float32)
    img = np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
    if kind.endswith("rects"):
        for _ in range(int(rng.integers(3, 9))):
            x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
            x1 = x0 + int(rng.integers(10, max(11, width // 3)))
            y1 = y0 + int(rng.integers(10, max(11, height // 3)))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
    return np.ascontiguousarray(img)
