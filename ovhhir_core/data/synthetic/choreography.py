"""Scripts of the synthetic interactions: two figures' poses as a function of time.

Each script maps ``t`` in [0, 1] (clip start to end) and a :class:`PairLayout` to the poses of
person *a* and person *b*. Scripts are written in a canonical frame (a on the left facing right,
b on the right facing left); :meth:`PairLayout.place` mirrors them when ``mirror`` is set. Lengths
are in units of the figure height ``h``. Class names match the taxonomy's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from ovhhir_core.data.synthetic.figures import Arm, Leg, Pose


@dataclass(frozen=True)
class PairLayout:
    """Where a pair acts: centre ``cx`` and figure height ``h`` (pixels), and random variations."""

    cx: float
    h: float
    far_gap: float = 1.5  # start/end distance of approach-type scripts, in units of h
    shift: float = 0.0  # timing offset of the whole script, fraction of the clip
    variant: int = 0  # script-specific choice (who walks, whether b answers, ...)
    mirror: bool = False

    def place(self, a: Pose, b: Pose) -> tuple[Pose, Pose]:
        if not self.mirror:
            return a, b
        return a.mirrored(self.cx), b.mirrored(self.cx)


def ramp(t: float, t0: float, t1: float) -> float:
    """0 before ``t0``, 1 after ``t1``, smooth in between."""
    u = min(1.0, max(0.0, (t - t0) / (t1 - t0)))
    return u * u * (3 - 2 * u)


def lerp(a: float, b: float, u: float) -> float:
    return a + (b - a) * u


def walking(x: float, facing: int, travelled: float, h: float, run: bool = False, **kw) -> Pose:
    """A walking (or running) pose after ``travelled`` pixels; legs and arms swing in phase."""
    s = math.sin(2 * math.pi * travelled / ((0.8 if run else 0.55) * h))
    amp = 38.0 if run else 24.0
    elbow = 85.0 if run else 12.0
    pose = Pose(
        x,
        facing,
        lean=12.0 if run else 2.0,
        near_arm=Arm(5 - 0.8 * amp * s, elbow),
        far_arm=Arm(5 + 0.8 * amp * s, elbow),
        near_leg=Leg(amp * s, 30 * max(0.0, -s)),
        far_leg=Leg(-amp * s, 30 * max(0.0, s)),
    )
    return replace(pose, **kw) if kw else pose


def _pair_x(p: PairLayout, gap: float) -> tuple[float, float]:
    return p.cx - gap * p.h / 2, p.cx + gap * p.h / 2


def _approach(
    t: float, p: PairLayout, g0: float, g1: float, t0: float, t1: float, only_a: bool = False
) -> tuple[Pose, Pose, float]:
    """Both (or only a) walk from gap g0 to gap g1 during [t0, t1]; returns poses and gap."""
    gap = lerp(g0, g1, ramp(t, t0, t1))
    if only_a:
        xb = p.cx + (g1 / 2 + (g0 - g1) / 4) * p.h
        xa = xb - gap * p.h
        a = walking(xa, 1, (g0 - gap) * p.h, p.h) if 0 < ramp(t, t0, t1) < 1 else Pose(xa, 1)
        return a, Pose(xb, -1), gap
    xa, xb = _pair_x(p, gap)
    moving = 0 < ramp(t, t0, t1) < 1
    d = (g0 - gap) * p.h / 2
    a = walking(xa, 1, d, p.h) if moving else Pose(xa, 1)
    b = walking(xb, -1, d + 0.1 * p.h, p.h) if moving else Pose(xb, -1)
    return a, b, gap


def approaching(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    a, b, _ = _approach(t, p, p.far_gap, 0.5, 0.05, 0.9, only_a=p.variant % 2 == 1)
    return a, b


def departing(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    a, b, gap = _approach(1 - t, p, p.far_gap, 0.5, 0.05, 0.85, only_a=p.variant % 2 == 1)
    turned = t > 0.08  # they turn their backs on each other, then walk off
    if turned:
        a, b = replace(a, facing=-1), replace(b, facing=1)
    return a, b


def handshaking(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    a, b, _ = _approach(t, p, 1.1, 0.53, 0.0, 0.35)
    r = ramp(t, 0.32, 0.45) - ramp(t, 0.8, 0.94)
    shake = 9 * math.sin(2 * math.pi * 6 * t) * (ramp(t, 0.45, 0.5) - ramp(t, 0.75, 0.8))
    arm = Arm(lerp(8, 55, r) + shake, lerp(10, 20, r))
    return replace(a, near_arm=arm), replace(b, near_arm=arm)


def hugging(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    gap_back = 0.12 * ramp(t, 0.86, 0.98)
    a, b, gap = _approach(t, p, 1.0, 0.22, 0.0, 0.45)
    if t > 0.86:
        xa, xb = _pair_x(p, gap + gap_back)
        a, b = replace(a, x=xa), replace(b, x=xb)
    r = ramp(t, 0.35, 0.5) - ramp(t, 0.84, 0.96)
    sway = 4 * math.sin(2 * math.pi * 2 * t) * r
    arm = Arm(lerp(8, 80, r), lerp(10, 85, r))
    far = Arm(lerp(-8, 75, r), lerp(10, 90, r))
    return (
        replace(a, near_arm=arm, far_arm=far, lean=8 * r + sway),
        replace(b, near_arm=arm, far_arm=far, lean=8 * r - sway),
    )


def pushing(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    a, b, _ = _approach(t, p, 0.95, 0.4, 0.0, 0.35, only_a=True)
    ready = ramp(t, 0.3, 0.45) - ramp(t, 0.75, 0.9)
    shove = ramp(t, 0.48, 0.56) * (1 - ramp(t, 0.7, 0.85))
    arm = Arm(lerp(8, 75, ready), lerp(10, lerp(55, 5, shove), ready))
    a = replace(a, near_arm=arm, far_arm=arm, lean=10 * shove)
    knock = ramp(t, 0.5, 0.56) - ramp(t, 0.66, 0.82)
    b = replace(
        b,
        x=b.x + 0.45 * p.h * ramp(t, 0.5, 0.68),
        lean=-20 * knock,
        near_leg=Leg(-18 * knock, 10 * knock),
        far_arm=Arm(-8 + 50 * knock, 30),
    )
    return a, b


def punching(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    a, b, _ = _approach(t, p, 1.0, 0.4, 0.0, 0.3, only_a=True)
    guard = ramp(t, 0.25, 0.4) - ramp(t, 0.8, 0.95)
    hit = ramp(t, 0.5, 0.55) - ramp(t, 0.62, 0.75)
    near = Arm(lerp(lerp(8, 60, guard), 92, hit), lerp(lerp(10, 100, guard), 0, hit))
    a = replace(
        a, near_arm=near, far_arm=Arm(lerp(-8, 50, guard), lerp(10, 110, guard)), lean=10 * hit
    )
    recoil = ramp(t, 0.54, 0.62) - ramp(t, 0.75, 0.92)
    b = replace(
        b,
        x=b.x + 0.14 * p.h * ramp(t, 0.54, 0.7),
        lean=-22 * recoil,
        near_arm=Arm(8 + 40 * recoil, 60 * recoil),
    )
    return a, b


def kicking(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    a, b, _ = _approach(t, p, 1.05, 0.55, 0.0, 0.3, only_a=True)
    lift = ramp(t, 0.4, 0.5) - ramp(t, 0.6, 0.75)
    knee = 65 * (ramp(t, 0.4, 0.45) - ramp(t, 0.47, 0.52))
    a = replace(
        a,
        near_leg=Leg(lerp(0, 80, lift), knee),
        lean=-12 * lift,
        far_arm=Arm(-8 - 25 * lift, 20),
        near_arm=Arm(8 + 30 * lift, 40 * lift),
    )
    hurt = ramp(t, 0.5, 0.58) - ramp(t, 0.75, 0.9)
    b = replace(
        b,
        x=b.x + 0.15 * p.h * ramp(t, 0.5, 0.65),
        lean=22 * hurt,
        near_arm=Arm(8 + 30 * hurt, 40 * hurt),
    )
    return a, b


def waving(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    xa, xb = _pair_x(p, max(1.1, p.far_gap))

    def wave(r: float) -> Arm:
        return Arm(lerp(8, 140, r), lerp(10, 15 + 30 * math.sin(2 * math.pi * 3.5 * t), r))

    a = Pose(xa, 1, near_arm=wave(ramp(t, 0.08, 0.22) - ramp(t, 0.8, 0.92)))
    rb = (ramp(t, 0.4, 0.52) - ramp(t, 0.85, 0.95)) if p.variant % 2 == 0 else 0.0
    return a, Pose(xb, -1, near_arm=wave(rb))


def highfiving(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    a, b, gap = _approach(t, p, 1.1, 0.27, 0.0, 0.35)
    if t > 0.75:
        xa, xb = _pair_x(p, lerp(gap, 0.55, ramp(t, 0.75, 0.95)))
        a, b = replace(a, x=xa), replace(b, x=xb)
    r = ramp(t, 0.35, 0.48) - ramp(t, 0.62, 0.78)
    slap = 6 * (ramp(t, 0.47, 0.5) - ramp(t, 0.5, 0.54))
    arm = Arm(lerp(8, 155, r) - slap, lerp(10, 0, r))
    return replace(a, near_arm=arm), replace(b, near_arm=arm)


def pointing(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    xa, xb = _pair_x(p, max(1.0, p.far_gap * 0.8))
    r = ramp(t, 0.15, 0.28) - ramp(t, 0.82, 0.92)
    jab = 4 * math.sin(2 * math.pi * 4 * t) * r
    a = Pose(xa, 1, lean=5 * r, near_arm=Arm(lerp(8, 88, r) + jab, lerp(10, 0, r)))
    react = ramp(t, 0.35, 0.5) - ramp(t, 0.85, 0.95) if p.variant % 2 == 0 else 0.0
    return a, Pose(xb, -1, lean=-6 * react, near_arm=Arm(8 + 25 * react, 70 * react))


def fistbumping(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    a, b, _ = _approach(t, p, 1.0, 0.55, 0.0, 0.35)
    r = ramp(t, 0.36, 0.46) - ramp(t, 0.6, 0.75)
    bump = 6 * (ramp(t, 0.46, 0.49) - ramp(t, 0.5, 0.55))
    arm = Arm(lerp(8, 68, r) + bump, lerp(10, 8, r))
    return replace(a, near_arm=arm), replace(b, near_arm=arm)


def chasing(t: float, p: PairLayout) -> tuple[Pose, Pose]:
    xb = p.cx - 0.4 * p.h + 1.0 * p.h * t
    xa = p.cx - 1.1 * p.h + 1.4 * p.h * t
    a = walking(xa, 1, 1.4 * p.h * t, p.h, run=True)
    b = walking(xb, 1, 1.0 * p.h * t + 0.2 * p.h, p.h, run=True)
    return a, b


#: class name (taxonomy) → script
SCRIPTS: dict[str, Callable[[float, PairLayout], tuple[Pose, Pose]]] = {
    "Approaching": approaching,
    "Departing": departing,
    "Handshaking": handshaking,
    "Hugging": hugging,
    "Pushing": pushing,
    "Punching": punching,
    "Kicking": kicking,
    "Waving": waving,
    "HighFiving": highfiving,
    "Pointing": pointing,
    "FistBumping": fistbumping,
    "Chasing": chasing,
}


def poses_at(class_name: str, t: float, layout: PairLayout) -> tuple[Pose, Pose]:
    """Poses of a and b for ``class_name`` at time ``t`` in [0, 1] (timing shifted, mirrored)."""
    u = min(1.0, max(0.0, t - layout.shift))
    a, b = SCRIPTS[class_name](u, layout)
    return layout.place(a, b)
