"""An interaction's event profile: a fixed-length vector read from its timeline's events alone,
and a nearest-class reader over such vectors (a training-free check that the events carry the
interaction: ``benchmarks/eval_timeline.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ovhhir_core.streams import PERSONS
from ovhhir_core.timeline.core import Timeline
from ovhhir_core.timeline.events import MASK_EVENTS


def event_profile(timeline: Timeline) -> np.ndarray:
    """Per mask-event kind: present (0/1), fraction of the clip it covers, when it starts (0..1 of
    the clip, 0 when absent), whether one person alone drives it; then the number of contacts
    (capped at 3, /3). Shape ``(4 * len(MASK_EVENTS) + 1,)``."""
    meta = timeline.metadata
    first, n = meta["first_frame"], max(1, meta["num_frames"])
    out = []
    for kind in MASK_EVENTS:
        events = [e for e in timeline.events if e["kind"] == kind]
        covered = sum(e["end_frame"] - e["start_frame"] + 1 for e in events) / n
        start = (events[0]["start_frame"] - first) / n if events else 0.0
        alone = float(any(e.get("by") in PERSONS for e in events))
        out += [float(bool(events)), min(1.0, covered), start, alone]
    contacts = sum(e["kind"] == "contact" for e in timeline.events)
    return np.asarray(out + [min(contacts, 3) / 3], np.float64)


class NearestClass:
    """Nearest class mean of standardised profiles (fit on one set, read another)."""

    def fit(self, profiles: np.ndarray, labels: Sequence[str]) -> NearestClass:
        x = np.asarray(profiles, np.float64)
        self.mean, self.std = x.mean(axis=0), x.std(axis=0) + 1e-6
        z = (x - self.mean) / self.std
        self.classes = sorted(set(labels))
        y = np.asarray(labels)
        self.centres = np.stack([z[y == c].mean(axis=0) for c in self.classes])
        return self

    def predict(self, profiles: np.ndarray) -> list[str]:
        z = (np.asarray(profiles, np.float64) - self.mean) / self.std
        d = ((z[:, None, :] - self.centres[None]) ** 2).sum(axis=2)
        return [self.classes[i] for i in d.argmin(axis=1)]
