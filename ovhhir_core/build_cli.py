"""``python -m ovhhir_core build-dataset``: labelled videos → an HHIRChat JSONL with three streams.

Examples::

    python -m ovhhir_core build-dataset clips/ --out data/train.jsonl --dataset UT-Interaction
    python -m ovhhir_core build-dataset list.csv --out data/part0.jsonl --shard 0/4
    python -m ovhhir_core build-dataset clips/ --out d.jsonl --describer offline
    python -m ovhhir_core build-dataset list.csv --out d.jsonl --preset small --describer zeroshot
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ovhhir_core.data.build.describe import clean_description
from ovhhir_core.data.taxonomy import Category
from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    from ovhhir_core import cli

    p = subparsers.add_parser(
        "build-dataset",
        help="build an HHIRChat dataset (three streams + soft labels) from labelled videos",
        description="Build an HHIRChat JSONL from a folder (<folder>/<label>/<video>) or a CSV "
        "(columns: video, label; optional id, dataset, frame, p1, p2, mask). People come from a "
        "mask file (.npz labels or a zip of indexed PNGs) or from p1/p2 prompts tracked with "
        "the --preset's SAM + SAM 2. Resumable: rerun the same command to continue.",
    )
    p.add_argument("source", help="folder of <label>/<video> files, or a .csv")
    p.add_argument("--out", required=True, help="output .jsonl (appended to; existing ids skip)")
    p.add_argument(
        "--dataset",
        help="source dataset of the labels, e.g. UT-Interaction, NTU, "
        "Kinetics (maps its labels through the taxonomy)",
    )
    p.add_argument(
        "--label-map",
        metavar="JSON",
        help='JSON file {"source label": "ClassName"} overriding the taxonomy',
    )
    p.add_argument(
        "--shard",
        default="0/1",
        metavar="I/N",
        help="build only every N-th row starting at I (0-based), e.g. 0/4 ... 3/4",
    )
    p.add_argument(
        "--streams-dir", help="where stream videos go (default: <out stem>_videos next to --out)"
    )
    p.add_argument(
        "--describer",
        metavar="PRESET|zeroshot[:PRESET]",
        help="write soft labels with this preset's chat LLM instead of the taxonomy's templates; "
        "'zeroshot' (or zeroshot:PRESET): with the (--preset's) zero-shot video-LLM, which "
        "watches each built clip with both people marked",
    )
    p.add_argument("--checkpoint", help="trained checkpoint for the describer's model (optional)")
    p.add_argument("--fill", type=int, default=0, help="pixel value of removed regions (0-255)")
    p.add_argument("--seed", type=int, default=0, help="seed of the template choice")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    cli.add_common_args(p)
    p.set_defaults(func=run)


def _label_map(path: str | None) -> dict[str, str] | None:
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"--label-map {path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UserError(f"--label-map {path}: must be a JSON object of label → class name")
    return data


def run(args: argparse.Namespace) -> int:
    from ovhhir_core import cli
    from ovhhir_core.data.build import BuildOptions, DatasetBuilder
    from ovhhir_core.data.build.inputs import parse_shard

    if not 0 <= args.fill <= 255:
        raise UserError(f"--fill must be 0..255, got {args.fill}")
    options = BuildOptions(
        source=Path(args.source),
        out=Path(args.out),
        dataset=args.dataset,
        label_map=_label_map(args.label_map),
        shard=parse_shard(args.shard),
        streams_dir=Path(args.streams_dir) if args.streams_dir else None,
        fill=args.fill,
        seed=args.seed,
    )
    preset, device, dtype = cli.setup(args)

    def segmenters():
        from ovhhir_core.tracking import load_segmenters

        log.info("loading the tracking models of preset %s", preset.name)
        return load_segmenters(preset, device)

    describer = None
    kind, _, zeroshot_preset = (args.describer or "").partition(":")
    if kind == "zeroshot":
        from ovhhir_core.zeroshot import load_zeroshot_answerer

        answerer_preset = cli.load_preset_arg(args, zeroshot_preset or None)
        describer = ClipDescriber(load_zeroshot_answerer(answerer_preset, device, dtype))
    elif args.describer:
        from ovhhir_core.model import load_model

        model = load_model(
            cli.load_preset_arg(args, args.describer), device, dtype, args.checkpoint
        )
        describer = LLMDescriber(model)
    builder = DatasetBuilder(options, describer=describer, tracker=PromptTracker(segmenters))
    events = builder.run()
    if not args.no_progress:
        from tqdm import tqdm

        with tqdm(unit="video", file=sys.stderr, dynamic_ncols=True) as bar:
            for ev in events:
                bar.total = ev.total
                bar.set_postfix_str(f"{ev.status}: {ev.row_id}"[:60], refresh=False)
                bar.update(1)
    else:
        for _ev in events:
            pass
    print(builder.report.summary())
    return 0  # failed rows are reported above and listed in the errors file, not fatal


class PromptTracker:
    """A build-dataset tracker: a row's p1/p2 prompts tracked through its video with
    :class:`ovhhir_core.tracking.TrackingSession`. ``segmenters`` returns the shared tracking
    models; it is called once, on the first row that needs tracking."""

    def __init__(self, segmenters: Callable[[], Any]) -> None:
        self._factory = segmenters
        self._segmenters = None

    def __call__(self, row: Any, cancel: Callable[[], bool] | None = None) -> Any:
        from ovhhir_core.tracking import TrackingSession

        if self._segmenters is None:
            self._segmenters = self._factory()
        session = TrackingSession(self._segmenters, row.video)
        for obj_id, prompt in row.prompts.items():
            if prompt.box is not None:
                session.add_box(row.frame, obj_id, prompt.box)
            if prompt.points:
                session.add_points(row.frame, obj_id, prompt.points, prompt.labels)
        for _ in session.propagate(cancel):
            pass
        if not session.propagation_complete:
            raise UserError("tracking was cancelled before the end of the video")
        return session.labels


DESCRIBER_PROMPT = (
    "You write the ground-truth descriptions of a video dataset of two-person interactions. "
    'A clip shows the interaction "{name}" ({class_name}). One description of such a clip '
    'is: "{reference}"\n'
    "Write a different description of a clip of the same interaction, in one or two sentences, "
    'in the present tense: who moves, how, and towards whom. Start with "A person" or '
    '"Two people". Write only the description.'
)


class LLMDescriber:
    """Soft labels written by a chat LLM (text only) through :class:`ovhhir_core.model.ChatSession`.

    The LLM rewrites one of the taxonomy's soft labels (the *reference*) in its own words, so a
    small LLM stays on topic and a large one adds variety. ``model`` is an
    :class:`ovhhir_core.model.OVHHIRModel` (any preset's LLM); ``gen`` a
    :class:`ovhhir_core.model.GenerationConfig`.
    """

    def __init__(self, model: Any, gen: Any = None, max_chars: int = 400) -> None:
        from ovhhir_core.model import GenerationConfig

        self.model = model
        self.gen = gen or GenerationConfig(temperature=0.7, max_new_tokens=80, seed=0)
        self.max_chars = max_chars

    def __call__(self, cat: Category, reference: str) -> str | None:
        from ovhhir_core.model import ChatSession

        prompt = DESCRIBER_PROMPT.format(
            name=cat.name, class_name=cat.class_name, reference=reference
        )
        answer = ""
        for answer in ChatSession(self.model).ask(prompt, self.gen):  # noqa: B007
            pass
        return clean_description(answer, self.max_chars)


CLIP_DESCRIBER_QUESTION = (
    'This clip is labelled "{name}". Describe the interaction between <p1> and <p2> in one or '
    "two sentences, in the present tense: who moves, how, and towards whom."
)


class ClipDescriber:
    """Soft labels written by an answerer that watches each built clip (``--describer
    zeroshot``): the label name is given, the description is of the clip itself. ``source``
    (recorded as the sample's ``soft_label_from``) names the model, and says when its weights
    are random."""

    sees_clip = True

    def __init__(self, answerer: Any, gen: Any = None, max_chars: int = 400) -> None:
        from ovhhir_core.answering.base import GenerationConfig

        self.answerer = answerer
        self.gen = gen or GenerationConfig(temperature=0.7, max_new_tokens=80, seed=0)
        self.max_chars = max_chars
        self.source = "zeroshot: " + answerer.provenance().caption()

    def __call__(self, cat: Category, reference: str, clip: Any) -> str | None:
        conversation = self.answerer.open(clip, use_facts=False)
        question = CLIP_DESCRIBER_QUESTION.format(name=cat.name)
        growing = deque(conversation.ask(question, self.gen), maxlen=1)
        return clean_description(growing[0] if growing else "", self.max_chars)
