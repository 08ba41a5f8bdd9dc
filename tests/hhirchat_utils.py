"""Helpers shared by the HHIRChat tests: a valid record, records written to a file."""

from __future__ import annotations

import json
from pathlib import Path

from ovhhir_core.streams import DESCRIBE_QUESTION, ONE_WORD_QUESTION


def make_record(i: int = 0, **over) -> dict:
    """One valid three-stream HHIRChat record, with ``over`` replacing its fields."""
    rec = {
        "id": str(i),
        "p1": f"v/{i}_p1.mp4",
        "p2": f"v/{i}_p2.mp4",
        "bg": f"v/{i}_bg.mp4",
        "conversations": [
            {"from": "human", "value": DESCRIBE_QUESTION},
            {"from": "gpt", "value": "A person swings a punch at another person."},
            {"from": "human", "value": ONE_WORD_QUESTION},
            {"from": "gpt", "value": "Punching."},
        ],
        "label": "Punching",
        "source": "UT-Interaction",
    }
    rec.update(over)
    return rec


def write_records(path: Path, records, jsonl: bool = False) -> Path:
    """``records`` written to ``path`` as one JSON list, or as JSON lines."""
    if jsonl:
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        path.write_text(json.dumps(records))
    return path
