"""Track tab, picking people: person proposals and box prompts for the selected person.

*Find people* runs the person detector on the annotation frame (once per frame and session; the
cache lives in ``ovhhir_core.tracking.proposals``) and draws the proposals numbered on the frame;
the confidence slider hides the weak ones. A positive click inside a proposal, for a person with no
prompt on that frame yet, makes it that person's box prompt; later positive/negative clicks refine
it. In box mode two clicks give the selected person a box: first corner, then the opposite one.
Undo takes back a pending corner first, then the last prompt (a box included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.state import Services, SessionState
from ovhhir_core.streams import DISPLAY_NAMES

BOX_MODE = "Box (click two corners)"


@dataclass
class PeopleState:
    """One user's picking state, in ``SessionState.people``."""

    proposals: Any = None  # ovhhir_core.tracking.proposals.SessionProposals
    shown_frame: int | None = None  # the frame whose proposals are drawn
    min_score: float = 0.0
    corner: tuple[str, int, tuple[int, int]] | None = None  # (person, frame, first corner)


class PeopleTools:
    """Proposals and box prompts for :class:`~app.track_handlers.TrackHandlers`."""

    def __init__(self, services: Services):
        self.services = services

    @staticmethod
    def state(state: SessionState) -> PeopleState:
        if state.people is None:
            state.people = PeopleState()
        return state.people

    def find(self, state: SessionState, session: Any, min_score: float) -> str:
        """Proposals for the annotation frame (computed once per frame); returns the info line."""
        from ovhhir_core.tracking.proposals import SessionProposals

        people = self.state(state)
        if people.proposals is None or people.proposals.session is not session:
            people.proposals = SessionProposals(self.services.detector(), session)
        people.proposals.get(state.frame_idx)
        people.shown_frame, people.min_score = state.frame_idx, float(min_score)
        return self.info(state)

    def info(self, state: SessionState) -> str:
        """How many proposals are shown, and what produced them (trained or not)."""
        shown = self._shown(state)
        if shown is None:
            return ""
        source = state.people.proposals.source
        numbers = ", ".join(f"{p.id} ({p.score:.2f})" for p in shown) or "none above the threshold"
        return (
            f"People on frame {state.frame_idx}: {numbers}. Click inside one to pick it for the "
            f"selected person. Found by {source}; preset {self.services.preset.name}."
        )

    def _shown(self, state: SessionState) -> list | None:
        people = state.people
        if people is None or people.proposals is None or people.shown_frame != state.frame_idx:
            return None
        if people.proposals.session is not state.tracking:  # trimmed or reloaded since
            state.people = None
            return None
        return people.proposals.get(state.frame_idx, people.min_score)

    def click(
        self, state: SessionState, session: Any, obj_id: str, kind: str, point: tuple
    ) -> str | None:
        """Handle a click (``kind``: :data:`BOX_MODE`, or a positive/negative choice) that places
        a box corner or picks a proposal; returns a status line, or None when it is an ordinary
        positive/negative point."""
        people = self.state(state)
        name = DISPLAY_NAMES[obj_id]
        if kind == BOX_MODE:
            corner = people.corner
            if corner is None or corner[:2] != (obj_id, state.frame_idx):
                people.corner = (obj_id, state.frame_idx, point)
                return f"{name}: first corner at {point}; click the opposite corner."
            (x0, y0), (x1, y1) = corner[2], point
            people.corner = None
            box = (min(x0, x1), min(y0, y1), max(x0, x1) + 1, max(y0, y1) + 1)
            session.add_box(state.frame_idx, obj_id, box)
            return f"{name}: box {box}."
        shown = self._shown(state)
        if not shown or not kind.startswith("Positive"):
            return None
        if state.frame_idx in session.prompted_frames(obj_id):  # its clicks refine, not pick
            return None
        from ovhhir_core.tracking.proposals import pick

        chosen = pick(shown, *point)
        if chosen is None:
            return None
        people.proposals.assign(state.frame_idx, obj_id, chosen)
        return f"{name}: proposal {chosen.id} (score {chosen.score:.2f}); clicks now refine it."

    def undo_corner(self, state: SessionState, obj_id: str) -> bool:
        """Drop ``obj_id``'s pending first corner; False when there is none."""
        people = self.state(state)
        if people.corner is None or people.corner[0] != obj_id:
            return False
        people.corner = None
        return True

    def decorate(self, state: SessionState, frame: np.ndarray) -> np.ndarray:
        """``frame`` with the shown proposals (numbered) and a pending box corner drawn on it."""
        shown = self._shown(state)
        if shown:
            from ovhhir_core.tracking.proposals import draw_proposals

            frame = draw_proposals(frame, shown)
        corner = state.people.corner if state.people is not None else None
        if corner is not None and corner[1] == state.frame_idx:
            frame = frame.copy()
            x, y = corner[2]
            h, w = frame.shape[:2]
            frame[max(0, y - 4) : y + 5, min(x, w - 1)] = (255, 255, 0)
            frame[min(y, h - 1), max(0, x - 4) : x + 5] = (255, 255, 0)
        return frame
