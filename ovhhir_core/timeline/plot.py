"""``timeline.png``: the measured interaction over time (matplotlib, Agg backend, no display).

Four panels sharing the time axis: the events as labelled bars; the centre distance (in heights)
with contact shaded; the approach speed (negative = closing in); each person's visibility.

Every plot of the process is drawn on one long-lived thread: matplotlib keeps an open font file
per font and per thread that drew text, so a server drawing each plot on its job's own thread
would collect open files with every session.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ovhhir_core.streams import DISPLAY_NAMES, PERSONS
from ovhhir_core.timeline.core import Timeline

#: Colour of each event kind (and of each person's line).
COLOURS = {
    "approach": "#2a9d8f",
    "contact": "#e63946",
    "separation": "#f4a261",
    "walk_together": "#6a4c93",
    "pass_by": "#8d99ae",
    "follow": "#1d3557",
    "person_1": "#e63946",
    "person_2": "#1d82e6",
}
POSE_COLOUR = "#b5838d"


def _series(timeline: Timeline, getter) -> np.ndarray:
    return np.array([np.nan if (v := getter(r)) is None else float(v) for r in timeline.frames])


def _spans(t: np.ndarray, flags: np.ndarray) -> list[tuple[float, float]]:
    """Time spans where ``flags`` holds, each widened by half a frame on both sides."""
    half = 0.5 * (t[1] - t[0]) if len(t) > 1 else 0.5
    out, start = [], None
    for i, f in enumerate(flags):
        if f and start is None:
            start = i
        if start is not None and (not f or i == len(flags) - 1):
            end = i if f else i - 1
            out.append((t[start] - half, t[end] + half))
            start = None
    return out


def _event_panel(ax, timeline: Timeline, half: float) -> None:
    kinds = list(dict.fromkeys(e["kind"] for e in timeline.events))
    for row, kind in enumerate(kinds):
        colour = COLOURS.get(kind, POSE_COLOUR)
        for e in (e for e in timeline.events if e["kind"] == kind):
            x0, x1 = e["start_s"] - half, e["end_s"] + half
            ax.barh(row, x1 - x0, left=x0, height=0.6, color=colour, alpha=0.85)
    ax.set_yticks(range(len(kinds)), [k.replace("_", " ") for k in kinds], fontsize=8)
    ax.set_ylim(-0.7, max(len(kinds), 1) - 0.3)
    ax.invert_yaxis()
    if not kinds:
        ax.text(0.5, 0.5, "no events", transform=ax.transAxes, ha="center", va="center")
    ax.set_title(_title(timeline), fontsize=9, loc="left")


def _title(timeline: Timeline) -> str:
    meta = timeline.metadata
    pose = meta.get("pose")
    pose_text = "no pose" if not pose else f"pose: {pose['model']}"
    if pose and not pose.get("trained"):
        pose_text += " (RANDOM weights: pose events are not results)"
    w, h = meta["size"]
    title = f"{meta['num_frames']} frames · {meta['fps']:g} fps · {w}×{h} · {pose_text}"
    seg = meta.get("segmenter") or {}
    if not seg.get("trained", True):
        title = (
            f"masks from RANDOM segmenter weights ({seg.get('model')}): noise, not results\n{title}"
        )
    return title


_PLOTTER: ThreadPoolExecutor | None = None  # the process's drawing thread, made on first use
_PLOTTER_LOCK = threading.Lock()


def save_plot(timeline: Timeline, path: str | os.PathLike) -> None:
    """Draw ``timeline`` into the PNG ``path`` (on the process's drawing thread)."""
    global _PLOTTER
    with _PLOTTER_LOCK:
        if _PLOTTER is None:
            _PLOTTER = ThreadPoolExecutor(1, thread_name_prefix="timeline-plot")
    _PLOTTER.submit(_draw, timeline, path).result()


def _draw(timeline: Timeline, path: str | os.PathLike) -> None:
    from matplotlib.figure import Figure  # no pyplot: renders with Agg, never opens a window

    t = _series(timeline, lambda r: r["t"])
    half = 0.5 / timeline.fps
    fig = Figure(figsize=(8, 6.4), dpi=100, layout="constrained")
    axes = fig.subplots(4, 1, sharex=True, height_ratios=[1.3, 1.6, 1.2, 0.8])
    _event_panel(axes[0], timeline, half)
    dist = _series(timeline, lambda r: r["pair"]["distance"])
    contact = np.array([bool(r["pair"]["contact"]) for r in timeline.frames])
    for a, b in _spans(t, contact):
        axes[1].axvspan(a, b, color=COLOURS["contact"], alpha=0.18, lw=0)
    axes[1].plot(t, dist, color="black", lw=1.4, marker="." if len(t) < 3 else None)
    axes[1].set_ylabel("distance\n(heights)", fontsize=8)
    axes[1].text(0.99, 0.95, "shaded: contact", transform=axes[1].transAxes, ha="right",
                 va="top", fontsize=7, color=COLOURS["contact"])  # fmt: skip
    speed = _series(timeline, lambda r: r["pair"]["approach_speed"])
    axes[2].axhline(0, color="grey", lw=0.6)
    axes[2].plot(t, speed, color=COLOURS["approach"], lw=1.2)
    axes[2].set_ylabel("approach speed\n(heights/s)", fontsize=8)
    for k, p in enumerate(PERSONS):
        vis = np.array([r[p]["visible"] for r in timeline.frames], float)
        axes[3].fill_between(t, k, k + 0.8 * vis, step="mid", color=COLOURS[p], alpha=0.75, lw=0)
    axes[3].set_yticks([0.4, 1.4], [DISPLAY_NAMES[p] for p in PERSONS], fontsize=8)
    axes[3].set_ylim(-0.2, 2.0)
    axes[3].set_title("visible", fontsize=8, loc="left")
    axes[3].set_xlabel("time (s)")
    if len(t):
        axes[3].set_xlim(t[0] - half, t[-1] + half)
    for ax in axes:
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=8)
    fig.savefig(path, format="png")
