"""Regenerate the demo's example clips and example review set (synthetic, so free to ship).

    python assets/make_examples.py

Writes ``assets/examples/<Interaction>.mp4`` (drawn figures acting out an interaction, H.264,
320x240) and ``assets/review/hhirchat.json`` with its stream videos (a small HHIRChat set for the
Review tab). Deterministic: the same files come out every time.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ovhhir_core.data.synthetic import make_dataset, render_clip  # noqa: E402
from ovhhir_core.video import write_video  # noqa: E402

#: (interaction, seed, crowded) of each example clip.
EXAMPLES = [("Handshaking", 1, False), ("Pushing", 2, False), ("Hugging", 3, True)]
REVIEW_CLASSES = ["Waving", "HighFiving", "Punching"]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    examples = HERE / "examples"
    shutil.rmtree(examples, ignore_errors=True)
    examples.mkdir()
    for name, seed, crowded in EXAMPLES:
        clip = render_clip(
            name, seed=seed, size=(320, 240), num_frames=40, fps=10.0, crowded=crowded
        )
        path = write_video(
            examples / f"{name}{'_crowded' if crowded else ''}.mp4", iter(clip.frames), clip.fps
        )
        logging.info("%s: %d bytes", path.relative_to(HERE), path.stat().st_size)
    review = HERE / "review"
    shutil.rmtree(review, ignore_errors=True)
    path = make_dataset(
        review,
        n_per_class=1,
        classes=REVIEW_CLASSES,
        seed=0,
        size=(160, 120),
        num_frames=16,
        fps=8.0,
    )
    logging.info("%s: %d samples", path.relative_to(HERE), len(REVIEW_CLASSES))


if __name__ == "__main__":
    main()
