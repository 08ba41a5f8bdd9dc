"""The one vocabulary of the three streams, used everywhere (core, data, app, tests).

A tracked clip has two people and a background. Each stream has one name (``person_1``,
``person_2``, ``background``), one label value in the label maps (DAVIS convention: (H, W) uint8,
0 = background, 1 = person_1, 2 = person_2), one prompt token (``<p1>`` ``<p2>`` ``<bg>``), one key
in HHIRChat files (``p1`` ``p2`` ``bg``), one file name as ``track`` writes it
(``person_1.mp4``) and one suffix in a dataset folder (``<id>_p1.mp4``).
"""

from __future__ import annotations

#: Stream names, in the order the model uses them.
STREAMS = ("person_1", "person_2", "background")
#: The two person streams.
PERSONS = ("person_1", "person_2")
BACKGROUND = "background"

#: Label value of each person in a label map (0 is the background).
LABEL_VALUES = {"person_1": 1, "person_2": 2}
#: Label value -> person stream.
PERSON_OF_LABEL = {v: k for k, v in LABEL_VALUES.items()}

#: Prompt placeholder of each stream.
TOKENS = {"person_1": "<p1>", "person_2": "<p2>", "background": "<bg>"}
#: Placeholder -> stream.
STREAM_OF_TOKEN = {v: k for k, v in TOKENS.items()}

#: Key of each stream's video path in an HHIRChat sample.
HHIRCHAT_KEYS = {"person_1": "p1", "person_2": "p2", "background": "bg"}
#: Suffix of each stream's file in a dataset folder (``<id>_p1.mp4``).
FILE_SUFFIXES = {"person_1": "_p1.mp4", "person_2": "_p2.mp4", "background": "_bg.mp4"}
#: File name of each stream (and of the overlay) in a ``track`` output folder.
TRACK_FILES = {
    "person_1": "person_1.mp4",
    "person_2": "person_2.mp4",
    "background": "background.mp4",
    "overlay": "overlay.mp4",
}
#: Label maps of a ``track`` output folder.
MASKS_FILE = "masks.npz"
#: What a track folder holds (source video, frame range, fill colour, what made the masks).
TRACK_INFO_FILE = "track.json"

#: Human-readable names (UI, prompts of the zero-shot answerer).
DISPLAY_NAMES = {"person_1": "Person 1", "person_2": "Person 2", "background": "background"}

#: The paper's two questions.
DESCRIBE_QUESTION = "Describe interaction between <p1> and <p2> in <bg>?"
DESCRIBE_QUESTION_NO_BG = "Describe interaction between <p1> and <p2>?"
ONE_WORD_QUESTION = "Describe the activity in one word."


def describe_question(has_background: bool = True) -> str:
    """The paper's question, naming the background only when there is one."""
    return DESCRIBE_QUESTION if has_background else DESCRIBE_QUESTION_NO_BG
