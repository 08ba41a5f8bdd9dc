"""Model speed and memory: batched vs frame-by-frame encoding, time to first token, tokens/s.

Each preset runs in a fresh subprocess so its peak memory is its own. Per preset it prints:

- encoding a 3×16-frame clip (person crops through ViTPose, background through ViT) with all
  frames of a kind in one batched pass vs one frame per pass, and the ratio (encoders only; the
  crop/resize time and the end-to-end ``extract_features`` time are printed separately);
- the branches (visual embeddings) time;
- time to first token of the paper's question with the three visual blocks, and decode
  tokens/s (greedy, ``--new-tokens`` tokens, stop tokens ignored);
- peak RSS (and peak CUDA memory on a GPU).

    python benchmarks/bench_model.py [--presets tiny offline] [--device cpu] [--new-tokens 32]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MEASURE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, torch
from ovhhir_core.config import load_preset
from ovhhir_core.device import resolve_device, resolve_dtype
from ovhhir_core.model import Clip, ChatSession, GenerationConfig, default_question, load_model
from ovhhir_core.model.generation import llm_tokens

preset, device_name, dtype_name, new_tokens, repeats, threads = sys.argv[2:8]
new_tokens, repeats = int(new_tokens), int(repeats)
if int(threads) > 0:
    torch.set_num_threads(int(threads))
device = resolve_device(device_name)
sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
t0 = time.perf_counter()
model = load_model(load_preset(preset), device, resolve_dtype(dtype_name, device))
load_s = time.perf_counter() - t0

rng = np.random.default_rng(0)
T, H, W = 16, 360, 640
p1 = np.zeros((T, H, W, 3), np.uint8); p2 = np.zeros((T, H, W, 3), np.uint8)
p1[:, 60:320, 100:220] = rng.integers(40, 255, (T, 260, 120, 3), dtype=np.uint8)
p2[:, 80:340, 380:500] = rng.integers(40, 255, (T, 260, 120, 3), dtype=np.uint8)
bg = rng.integers(0, 255, (T, H, W, 3), dtype=np.uint8)
clip = Clip.from_arrays({"person_1": p1, "person_2": p2, "background": bg})

def timed(fn):
    fn(); sync()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter(); fn(); sync(); best = min(best, time.perf_counter() - t)
    return best

pe, be = model.person_encoder, model.background_encoder
def prepare():
    crops = [pe.prepare_person(clip.frames[s], clip.boxes[s])[0] for s in ("person_1", "person_2")]
    return torch.cat(crops), be.prepare_full(clip.frames["background"])
prep_s = timed(prepare)
person_images, bg_images = prepare()
def encode():
    pe(person_images); be(bg_images)
batched_s = timed(encode)
sizes = (pe.batch_size, be.batch_size)
pe.batch_size = be.batch_size = 1
single_s = timed(encode)
pe.batch_size, be.batch_size = sizes
features_s = timed(lambda: model.extract_features(clip))
feats = model.extract_features(clip)
with torch.no_grad():
    branches_s = timed(lambda: model.embed(feats))
session = ChatSession(model, clip)
emb, ids, _ = model.prompt_embeds([{"role": "user", "content": default_question()}], session.visual)
gen = GenerationConfig(temperature=0, max_new_tokens=new_tokens, repetition_penalty=1.0)
ttfts, rates = [], []
for _ in range(repeats):
    stamps = []
    t = time.perf_counter()
    for _tok in llm_tokens(model.llm, emb, gen, stop_ids=[], context_ids=ids):
        sync(); stamps.append(time.perf_counter())
    ttfts.append(stamps[0] - t)
    rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
out = {"preset": preset, "device": str(device), "threads": torch.get_num_threads(), "dtype": str(model.dtype).replace("torch.", ""),
       "load_s": load_s, "prep_s": prep_s, "features_s": features_s, "encode_batched_s": batched_s, "encode_frame_by_frame_s": single_s,
       "branches_s": branches_s, "prompt_tokens": int(emb.shape[1]),
       "ttft_s": min(ttfts), "tokens_per_s": max(rates), "new_tokens": new_tokens,
       "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if device.type == "cuda":
    out["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
print("RESULT " + json.dumps(out))
"""


def run(preset: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        "-c",
        MEASURE,
        str(ROOT),
        preset,
        args.device,
        args.dtype,
        str(args.new_tokens),
        str(args.repeats),
        str(args.threads),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=None)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{preset} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "offline"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args(argv)
    for preset in args.presets:
        r = run(preset, args)
        print(
            f"\n== preset {r['preset']} on {r['device']} ({r['dtype']}, {r['threads']} threads, "
            f"load average {os.getloadavg()[0]:.1f}), load {r['load_s']:.1f} s"
        )
        ratio = r["encode_frame_by_frame_s"] / r["encode_batched_s"]
        print(
            f"encode 3x16 frames: batched {r['encode_batched_s'] * 1e3:.1f} ms, frame by frame "
            f"{r['encode_frame_by_frame_s'] * 1e3:.1f} ms -> batched is {ratio:.2f}x faster"
        )
        print(
            f"crop/resize 3x16 frames {r['prep_s'] * 1e3:.1f} ms; extract_features end to end "
            f"(crops + batched encoders) {r['features_s'] * 1e3:.1f} ms"
        )
        print(f"branches (3 video Q-Formers + projections): {r['branches_s'] * 1e3:.1f} ms")
        print(
            f"prompt {r['prompt_tokens']} tokens: time to first token {r['ttft_s'] * 1e3:.0f} ms,"
            f" decode {r['tokens_per_s']:.1f} tokens/s over {r['new_tokens']} tokens"
        )
        mem = f"peak RSS {r['peak_rss_mb']:.0f} MB"
        if "peak_cuda_mb" in r:
            mem += f", peak CUDA {r['peak_cuda_mb']:.0f} MB"
        print(mem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
