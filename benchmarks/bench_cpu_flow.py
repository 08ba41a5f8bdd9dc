"""The user's flow on a CPU, step by step, against an older revision: prints one table.

A 10 s 854x480 30 fps clip from the synthetic generator (two people, exact masks), the ``cpu``
preset, and stand-ins of the published architectures (``tests/published/``: EdgeTAM, SmolVLM2)
with *random* weights: the times are the architectures', the masks and words are noise.

Rows (wall seconds; CPU seconds of the process and its threads in brackets):
- ``track`` and ``describe`` as whole commands (start-up and loading included): the headlines;
- in one process: load, first click, second click, tracking, writing (four videos, masks, the
  HHIRChat sample), timeline; peak RSS;
- with ``--describe``: ``describe`` of the track output with 16 frames: first token cold (whole
  command), decode tokens/s; where the revision has it, the app's pre-encoding: the clip encoded
  in the background as tracking ends, the answerer preloaded as at start-up, and the first word
  of a question asked 20 s after tracking ends.

``--baseline REV`` checks REV out into a temporary git worktree and runs the same commands there,
alternating, then prints both side by side with old/new ratios; each loads the same stand-ins.

    python benchmarks/bench_cpu_flow.py --baseline 19bd869 --runs 2 [--describe]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "tests" / "published"
EDGETAM = PUBLISHED / "yonigozlan__EdgeTAM-hf"
SMOLVLM = PUBLISHED / "HuggingFaceTB__SmolVLM2-500M-Video-Instruct"

#: Timed in one process inside a revision's tree (its own code): prints one JSON line.
PHASES = r"""
import json, resource, sys, time
from pathlib import Path
clip, weights, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
p1, p2 = (tuple(map(float, a.split(","))) for a in sys.argv[4:6])
t = {}
def mark(name, since):
    t[name] = [time.perf_counter() - since[0], time.process_time() - since[1]]
    return time.perf_counter(), time.process_time()
now = time.perf_counter(), time.process_time()
import torch
from ovhhir_core import config
from ovhhir_core.data.export import export_hhirchat_sample
from ovhhir_core.masking import export_masks_npz, export_masks_png_zip, write_streams
from ovhhir_core.timeline.pipeline import track_timeline
from ovhhir_core.tracking import TrackingSession, load_segmenters
now = mark("imports", now)
paths = config.parse_local_paths([f"tracker={weights}", f"sam={weights}"])
import inspect  # older revisions read the environment unless told not to
quiet = {"use_env": False} if "use_env" in inspect.signature(config.load_preset).parameters else {}
preset = config.load_preset("cpu", paths, **quiet)
segs = load_segmenters(preset, torch.device("cpu"))
session = TrackingSession(segs, clip)
now = mark("load", now)
session.add_points(0, "person_1", [p1], [1])
now = mark("first click", now)
session.add_points(0, "person_2", [p2], [1])
now = mark("second click", now)
for _ in session.propagate():
    pass
now = mark("tracking", now)
streams = write_streams(clip, session.labels, out)
export_masks_png_zip(session.labels, out / "masks.zip")
export_masks_npz(session.labels, out / "masks.npz")
export_hhirchat_sample(streams, out, "clip")
now = mark("writing", now)
track_timeline(session.labels, clip, out, preset, torch.device("cpu"))
now = mark("timeline", now)
t["peak RSS MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("PHASES " + json.dumps(t))
"""

#: The app's answer-before-the-question, in one process inside a revision's tree that has it:
#: the answerer loaded as at start-up, the clip's encoding started as tracking ends, a question
#: asked WAIT seconds later; prints the encoding's and the first word's seconds as one JSON line.
PREENCODE = r"""
import json, os, sys, threading, time
from pathlib import Path
from app.chat import ChatHandlers
from app.settings import Settings
from app.state import Services
track, model, wait_s, root = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
settings = Settings(preset="cpu", device="cpu", backend="zeroshot", weights={"zeroshot": model})
svc = Services(settings, root=Path(root))
svc.answerer()  # loaded at start-up, as the app preloads it
state = svc.new_session()
for name in ("person_1", "person_2", "background"):
    state.outputs[name] = track / f"{name}.mp4"
state.outputs["masks"] = track / "masks.npz"
ch = ChatHandlers(svc)
start = time.perf_counter()
lines = ch.prepare(state, 16, True)
next(lines)
done = {}
threading.Thread(target=lambda: (list(lines), done.setdefault("t", time.perf_counter()))).start()
time.sleep(max(0.0, start + wait_s - time.perf_counter()))
asked = time.perf_counter()
for messages, _, _ in ch.describe(state, True, 0.0, 0.9, 1, 8, 16):
    text = messages[-1]["content"]
    if text and not text.startswith("_"):
        break
first = time.perf_counter() - asked
while "t" not in done:
    time.sleep(0.1)
print("PREENCODE " + json.dumps({"encode": done["t"] - start, "first": first, "wait": wait_s}))
sys.stdout.flush()
os._exit(0)  # the queue's worker threads need not be joined
"""


def make_inputs(work: Path) -> tuple[Path, Path, tuple[float, float], tuple[float, float]]:
    """The clip, the EdgeTAM stand-in folder and one click inside each person on frame 0."""
    import numpy as np
    import torch
    from transformers import EdgeTamVideoConfig, EdgeTamVideoModel

    sys.path.insert(0, str(ROOT))
    from ovhhir_core.data.synthetic import render_clip
    from ovhhir_core.video import write_video

    clip = render_clip("Chasing", seed=3, size=(854, 480), num_frames=300, fps=30)
    video = write_video(work / "clip.mp4", iter(clip.frames), clip.fps)
    clicks = []
    for value in (1, 2):
        ys, xs = np.nonzero(clip.labels[0] == value)
        i = int(np.argmin((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2))  # inside, near centre
        clicks.append((float(xs[i]), float(ys[i])))
    folder = work / "edgetam"
    torch.manual_seed(0)
    EdgeTamVideoModel(EdgeTamVideoConfig.from_pretrained(EDGETAM)).save_pretrained(folder)
    for f in EDGETAM.glob("*.json"):
        if f.name != "config.json":
            shutil.copy(f, folder / f.name)
    return video, folder, clicks[0], clicks[1]


def make_smolvlm(work: Path) -> Path:
    """SmolVLM2-500M stand-in: the published config, tokenizer, processor and template files
    with random weights (bf16, as published)."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    folder = work / "smolvlm2"
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(SMOLVLM)
    model = AutoModelForImageTextToText.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(folder)
    for f in SMOLVLM.iterdir():
        if f.name != "config.json":
            shutil.copy(f, folder / f.name)
    return folder


def build_inputs(work: Path, describe: bool) -> tuple[tuple, Path | None]:
    """:func:`make_inputs` (and :func:`make_smolvlm`) in a child process. Linux reports a
    child's peak RSS as at least its parent's RSS when it was forked, so the commands timed here
    must be started from a process that never held the models."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_cpu_flow as b; "
        "from pathlib import Path; w = Path(sys.argv[2]); v, e, p1, p2 = b.make_inputs(w); "
        "s = str(b.make_smolvlm(w)) if sys.argv[3] == '1' else None; "
        "print('INPUTS ' + json.dumps([str(v), str(e), p1, p2, s]))"
    )
    argv = [sys.executable, "-c", code, str(Path(__file__).parent), str(work), str(int(describe))]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    video, edgetam, p1, p2, smolvlm = json.loads(out.split("INPUTS ", 1)[1])
    inputs = (Path(video), Path(edgetam), tuple(p1), tuple(p2))
    return inputs, (Path(smolvlm) if smolvlm else None)


def timed(argv: list[str], cwd: Path, first_output: bool = False) -> dict:
    """Run ``argv`` in ``cwd``; wall and CPU seconds, peak RSS, and (``first_output``) the
    seconds to the first byte on stdout. A failure stops the benchmark with its stderr."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(cwd)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )
    first = None
    chunks = []
    try:
        while chunk := proc.stdout.read(1 if first is None and first_output else 65536):
            first = first or time.perf_counter() - start
            chunks.append(chunk)
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # interrupted: the command goes too
        proc.kill()
        raise
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{' '.join(argv[:4])} ... failed in {cwd}:\n{err[-3000:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss / 1024,
        "first": first,
        "stdout": b"".join(chunks).decode(errors="replace"),
        "stderr": err,
    }


def one_round(
    tree: Path, work: Path, inputs, smolvlm: Path | None, phases_too: bool = True
) -> dict[str, tuple]:
    """Every row for the revision in ``tree`` once: ``{row: (wall, cpu)}``."""
    video, edgetam, p1, p2 = inputs
    out = Path(tempfile.mkdtemp(dir=work))
    rows: dict[str, tuple] = {}
    track = [sys.executable, "-m", "ovhhir_core", "track", str(video), "--preset", "cpu"]
    track += ["--weights", f"tracker={edgetam}", "--weights", f"sam={edgetam}", "--no-progress"]
    track += ["--p1", "{:g},{:g}".format(*p1), "--p2", "{:g},{:g}".format(*p2), "--out", str(out)]
    r = timed(track, tree)
    rows["track (whole command)"] = (r["wall"], r["cpu"])
    rows["track peak RSS MB"] = (r["rss"], None)
    _partial(tree, rows)
    phases = Path(tempfile.mkdtemp(dir=work))
    if phases_too:
        argv = [sys.executable, "-c", PHASES, str(video), str(edgetam), str(phases)]
        r = timed([*argv, "{:g},{:g}".format(*p1), "{:g},{:g}".format(*p2)], tree)
        line = next(x for x in r["stdout"].splitlines() if x.startswith("PHASES "))
        for name, value in json.loads(line[len("PHASES ") :]).items():
            rows[f"  in-process: {name}"] = (
                tuple(value) if isinstance(value, list) else (value, None)
            )
        _partial(tree, rows)
    if smolvlm is not None:
        describe = [sys.executable, "-m", "ovhhir_core", "describe", "--track-dir", str(out)]
        describe += ["--preset", "cpu", "--weights", f"zeroshot={smolvlm}", "--num-frames", "16"]
        describe += ["--temperature", "0", "--max-new-tokens", "24"]
        r = timed(describe, tree, first_output=True)
        rows["describe (whole command)"] = (r["wall"], r["cpu"])
        rows["  first token cold"] = (r["first"], None)
        tokens = _count_tokens(smolvlm, r["stdout"])
        rows["  decode tokens/s"] = (max(0, tokens - 1) / max(1e-9, r["wall"] - r["first"]), None)
        rows["describe peak RSS MB"] = (r["rss"], None)
        _partial(tree, rows)
        if (tree / "app" / "prepare.py").is_file():
            argv = [sys.executable, "-c", PREENCODE, str(out), str(smolvlm), "20"]
            r = timed([*argv, str(Path(tempfile.mkdtemp(dir=work)))], tree)
            line = next(x for x in r["stdout"].splitlines() if x.startswith("PREENCODE "))
            pre = json.loads(line[len("PREENCODE ") :])
            rows["  pre-encoding after tracking"] = (pre["encode"], None)
            rows["  first token after pre-encoding"] = (pre["first"], None)
            _partial(tree, rows)
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(phases, ignore_errors=True)
    return rows


def _partial(tree: Path, rows: dict[str, tuple]) -> None:
    """Each run's figures as they come (on stderr), so a long run shows progress."""
    print(f"[{tree.name}] " + json.dumps({k: v for k, v in rows.items()}), file=sys.stderr)


def _count_tokens(folder: Path, text: str) -> int:
    from transformers import AutoTokenizer

    return len(AutoTokenizer.from_pretrained(folder)(text.strip())["input_ids"])


def preencoding_note(tree: Path) -> str:
    """Whether the revision can encode a clip for questions before one is asked."""
    if (tree / "app" / "prepare.py").is_file():
        return "the rows above: a question asked 20 s after tracking ends (answerer preloaded)"
    return "not available in this revision"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--baseline", default=None, metavar="REV", help="older revision to compare")
    ap.add_argument("--runs", type=int, default=2, help="rounds per revision, alternating")
    ap.add_argument("--describe", action="store_true", help="also the describe rows (slow)")
    ap.add_argument("--no-phases", action="store_true", help="whole commands only")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still remove the worktree
    work = Path(tempfile.mkdtemp(prefix="bench_cpu_flow-"))
    trees = {"new": ROOT}
    try:
        if args.baseline:
            old = work / "baseline"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(old), args.baseline],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            trees["old"] = old
        inputs, smolvlm = build_inputs(work, args.describe)
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():
                results[name].append(one_round(tree, work, inputs, smolvlm, not args.no_phases))
        report(results, trees)
    finally:
        if "old" in trees:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(trees["old"])],
                cwd=ROOT,
                capture_output=True,
            )
        shutil.rmtree(work, ignore_errors=True)


def _cell(values: list[tuple]) -> str:
    wall = statistics.median(v[0] for v in values)
    cpus = [v[1] for v in values if v[1] is not None]
    return f"{wall:8.1f}" + (f" ({statistics.median(cpus):6.1f})" if cpus else " " * 9)


def report(results: dict[str, list[dict]], trees: dict[str, Path]) -> None:
    """The side-by-side table: median over the rounds, and old/new ratios."""
    print(
        "\ncpu preset, published-architecture stand-ins with RANDOM weights (times only); "
        f"10 s 854x480 30 fps clip; {len(results['new'])} alternating round(s); "
        "wall s (CPU s), medians"
    )
    head = f"{'step':34s} {'new':>17s}"
    if "old" in results:
        head += f" {'old':>17s} {'old/new':>8s} {'CPU old/new':>11s}"
    print(head)
    for row in results["new"][0]:
        new = [r[row] for r in results["new"]]
        line = f"{row:34s} {_cell(new)}"
        if "old" in results and all(row in r for r in results["old"]):
            old = [r[row] for r in results["old"]]
            ratio = statistics.median(v[0] for v in old) / statistics.median(v[0] for v in new)
            line += f" {_cell(old)} {ratio:8.2f}"
            if new[0][1] is not None and old[0][1] is not None:
                cpu = statistics.median(v[1] for v in old) / statistics.median(v[1] for v in new)
                line += f" {cpu:11.2f}"
        print(line)
    for name, tree in trees.items():
        print(f"first token after pre-encoding ({name}): {preencoding_note(tree)}")


if __name__ == "__main__":
    main()
