"""Zero-shot answerer speed: time to first token, tokens/s, peak memory, second-turn reuse.

Random weights of the published architectures (speed is set by the architecture, not the
values). ``--published DIR`` builds the stand-in from a folder of published files
(``tests/published/ORG__NAME``: config, processor, tokenizer, chat template; see
:mod:`ovhhir_core.zeroshot.standin`), saves it once under ``--standin-cache`` and loads it through
the project's real path (``--weights zeroshot=DIR``): what a user's download gives, except the
weight values. Otherwise ``--arch`` builds one offline from transformers' config classes with the
offline tokenizer:

- ``smolvlm2-500m``: SigLIP-B/16 vision tower at 512 px (768 wide, 12 layers), scale factor 4
  (64 tokens per frame), SmolLM2-360M text model (960 wide, 32 layers, 15 heads, 5 KV heads);
- ``smolvlm2-256m``: the same vision tower, SmolLM2-135M text (576 wide, 30 layers, 9/3 heads);
- ``qwen3-vl-8b`` (GPU): 27-layer 1152-wide vision tower, 36-layer 4096-wide text model.

For each frame count it opens a conversation on a synthetic 640x360 clip (frames sampled,
people marked, video encoded), asks the paper's question and prints the first turn's time to
first token (open included), decode tokens/s (greedy, stop tokens ignored), then asks a second
question and prints its time to first token and the ratio (the video is not encoded again),
and the time to score 10 candidate classes, plus the vision tokens per frame (the image/video
placeholder tokens of the prompt over the frames) and the first turn's prompt tokens. Each frame
count runs in a fresh subprocess so its peak memory (RSS; CUDA peak on a GPU) is its own.
``--code ROOT`` measures the ``ovhhir_core`` of another checkout (same stand-in folder, so two
versions compare side by side; runs alternate between them with ``--code`` given twice).

    flock /tmp/bench.lock python3 benchmarks/bench_zeroshot.py --arch smolvlm2-500m --frames 8 16
    python3 benchmarks/bench_zeroshot.py \
        --published tests/published/HuggingFaceTB__SmolVLM2-500M-Video-Instruct \
        --frames 8 16 --code . --code ../other-checkout
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARCHS = {
    "tiny": {"family": "smolvlm"},  # plumbing check only
    "smolvlm2-500m": {
        "family": "smolvlm",
        "scale_factor": 4,
        "vision": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                   "num_attention_heads": 12, "image_size": 512, "patch_size": 16},
        "text": {"vocab_size": 49280, "hidden_size": 960, "intermediate_size": 2560,
                 "num_hidden_layers": 32, "num_attention_heads": 15, "num_key_value_heads": 5,
                 "rope_theta": 100000.0, "max_position_embeddings": 8192},
    },
    "smolvlm2-256m": {
        "family": "smolvlm",
        "scale_factor": 4,
        "vision": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                   "num_attention_heads": 12, "image_size": 512, "patch_size": 16},
        "text": {"vocab_size": 49280, "hidden_size": 576, "intermediate_size": 1536,
                 "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
                 "rope_theta": 100000.0, "max_position_embeddings": 8192},
    },
    "qwen3-vl-8b": {
        "family": "qwen3_vl",
        "image_size": 512,
        "vision": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16,
                   "out_hidden_size": 4096, "deepstack_visual_indexes": [8, 16, 24]},
        "text": {"vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 12288,
                 "num_hidden_layers": 36, "num_attention_heads": 32, "num_key_value_heads": 8,
                 "head_dim": 128, "max_position_embeddings": 262144,
                 "rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0,
                                     "mrope_section": [24, 20, 20], "mrope_interleaved": True}},
    },
}  # fmt: skip

MEASURE = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import torch
from ovhhir_core.answering import GenerationConfig, TrackedClip
from ovhhir_core.device import resolve_device, resolve_dtype
from ovhhir_core.streams import DESCRIBE_QUESTION, ONE_WORD_QUESTION
from ovhhir_core.zeroshot.answerer import ZeroShotAnswerer
from ovhhir_core.zeroshot.config import ZeroShotConfig
from bench_zeroshot_clip import make_clip

arch, frames, new_tokens, device_name, dtype_name, threads = json.loads(sys.argv[2])
if threads:
    torch.set_num_threads(threads)
device = resolve_device(device_name)
dtype = resolve_dtype(dtype_name, device)
if "folder" in arch:  # a published stand-in, through the project's real loading path
    from ovhhir_core.config import load_preset
    from ovhhir_core.zeroshot import load_zeroshot_answerer
    preset = load_preset("small", local_paths={"zeroshot": arch["folder"]})
    preset.zeroshot.frames = frames
    if arch.get("frame_size"):
        preset.zeroshot.frame_size = arch["frame_size"]
    answerer = load_zeroshot_answerer(preset, device, dtype)
    loaded = answerer.loaded
else:
    from ovhhir_core.zeroshot.loading import LoadedModel
    from ovhhir_core.zeroshot.tiny import build_random
    torch.set_default_dtype(dtype)
    with torch.device(device):
        model, processor = build_random(arch)
    torch.set_default_dtype(torch.float32)
    model = model.to(device, dtype).eval()
    loaded = LoadedModel(model, processor, arch["family"], "random " + arch["family"], False)
    cfg = ZeroShotConfig(weights=None, arch=arch, frames=frames, max_side=512)
    answerer = ZeroShotAnswerer(loaded, cfg, "bench")
answerer.stop_ids = []  # always decode new_tokens tokens
config = loaded.model.config
vision_ids = {getattr(config, k, None) for k in ("image_token_id", "video_token_id")} - {None}
clip = TrackedClip.from_track_dir(make_clip(Path(tempfile.mkdtemp())))
gen = GenerationConfig(temperature=0, max_new_tokens=new_tokens, repetition_penalty=1.0)

def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()

def say(**kw):
    print("STEP " + json.dumps(kw), flush=True)

import ovhhir_core.zeroshot.answerer as zs_answerer
token_times = []
_stream_tokens = zs_answerer.stream_tokens

def timed_tokens(*args, **kwargs):  # token-level times: random weights may decode to no text
    for token in _stream_tokens(*args, **kwargs):
        sync(); token_times.append(time.perf_counter())
        yield token

zs_answerer.stream_tokens = timed_tokens

def turn(conv, question, start):
    token_times.clear()
    for _ in conv.ask(question, gen):
        pass
    first, end = token_times[0], token_times[-1]
    return first - start, (len(token_times) - 1) / max(end - first, 1e-9)

start = time.perf_counter()
conv = answerer.open(clip, frames=frames)
sync(); encoded = time.perf_counter() - start
vision = sum(conv.prefix.ids[0].eq(i).sum().item() for i in vision_ids)
prompt = conv.prefix.length + len(conv._text_ids([{"role": "user", "content": DESCRIBE_QUESTION}]))
say(frames=frames, prefix_tokens=conv.prefix.length, open_s=round(encoded, 2),
    vision_tokens_per_frame=vision / frames, prompt_tokens=prompt)
ttft1, tps = turn(conv, DESCRIBE_QUESTION, start)
say(ttft1_s=round(ttft1, 2), tok_per_s=round(tps, 2))
ttft2, tps2 = turn(conv, "What does <p1> do with <p2>?", time.perf_counter())
say(ttft2_s=round(ttft2, 2), ratio=round(ttft1 / ttft2, 1))
classes = ["hugging", "handshake", "punching", "kicking", "pushing", "waving", "walking",
           "talking", "dancing", "pointing"]
start = time.perf_counter(); conv.score(ONE_WORD_QUESTION, classes); sync()
score = time.perf_counter() - start
out = dict(frames=frames, prefix_tokens=conv.prefix.length, open_s=encoded, ttft1_s=ttft1,
           vision_per_frame=vision / frames, prompt_tokens=prompt,
           tok_per_s=tps, ttft2_s=ttft2, ratio=ttft1 / ttft2, score10_s=score,
           peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
if device.type == "cuda":
    out["peak_cuda_gb"] = torch.cuda.max_memory_allocated() / 2**30
print("RESULT " + json.dumps(out))
"""


def _measure(code: Path, spec: list) -> dict:
    """One frame count in a fresh subprocess running ``code``'s ``ovhhir_core``."""
    run = subprocess.Popen(
        [sys.executable, "-c", MEASURE, str(code), json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent,
    )
    line = []
    for out in run.stdout:
        if out.startswith("STEP "):
            print("  " + out[5:].strip(), flush=True)
        elif out.startswith("RESULT "):
            line.append(out)
    if run.wait() or not line:
        raise SystemExit(f"{spec[1]} frames with {code}: measurement failed")
    return json.loads(line[-1][7:])


def _standin(published: Path, cache: Path) -> Path:
    """The random-weight stand-in of ``published``, built once into ``cache``."""
    from ovhhir_core.zeroshot.standin import build_standin

    out = cache / published.name
    if not (out / "standin.json").exists():
        print(f"building the random-weight stand-in of {published.name} in {out}", flush=True)
        build_standin(published, out)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", choices=sorted(ARCHS), default="smolvlm2-500m")
    p.add_argument("--published", type=Path, help="a folder of published files (config, ...)")
    p.add_argument("--standin-cache", type=Path, default=Path(tempfile.gettempdir()) / "standins")
    p.add_argument("--code", type=Path, action="append", help="checkout(s) to measure")
    p.add_argument("--frames", type=int, nargs="+", default=[8, 16])
    p.add_argument("--frame-size", type=int, help="zeroshot.frame_size (with --published)")
    p.add_argument("--new-tokens", type=int, default=16)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    if args.published:
        arch = {"folder": str(_standin(args.published.resolve(), args.standin_cache))}
        arch["frame_size"] = args.frame_size
        what = f"stand-in of {args.published.name} (published files, RANDOM weights)"
        what += f", frame_size {args.frame_size or 'default'}"
    else:
        arch, what = ARCHS[args.arch], f"arch {args.arch} (random weights)"
    codes = [c.resolve() for c in args.code or [ROOT]]
    print(f"{what}, device {args.device}, dtype {args.dtype}")
    header = "code  frames  vis/frame  prompt tok  open s  TTFT1 s  tok/s  TTFT2 s  TTFT1/TTFT2"
    print(header + "  score10 s  peak GB")
    for frames in args.frames:
        for n, code in enumerate(codes):
            spec = [arch, frames, args.new_tokens, args.device, args.dtype, args.threads]
            r = _measure(code, spec)
            peak = r.get("peak_cuda_gb", r["peak_rss_gb"])
            print(
                f"{n:>4}  {r['frames']:>6}  {r['vision_per_frame']:9.1f}  {r['prompt_tokens']:>10}"
                f"  {r['open_s']:6.2f}  {r['ttft1_s']:7.2f}  {r['tok_per_s']:5.1f}"
                f"  {r['ttft2_s']:7.2f}  {r['ratio']:11.1f}  {r['score10_s']:9.2f}  {peak:7.2f}",
                flush=True,
            )
    for n, code in enumerate(codes):
        print(f"code {n}: {code}")


if __name__ == "__main__":
    main()
