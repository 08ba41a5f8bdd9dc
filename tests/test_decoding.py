"""The shared decoding module: sampling filters, the token loop, beam search, text streaming.

A toy language model stands in for the real ones: its next-token logits are a fixed function of
the whole sequence so far, and its "cache" is that sequence (one row per beam).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from ovhhir_core.answering import GenerationConfig
from ovhhir_core.answering.decoding import (
    beam_search,
    filter_logits,
    generate_tokens,
    hypothesis_score,
    penalize_repetition,
    stream_text,
    top_p_filter,
)
from ovhhir_core.errors import UserError

TOKENIZER = (
    Path(__file__).parent / "published" / "HuggingFaceTB__SmolVLM2-500M-Video-Instruct"
) / "tokenizer.json"


class RowsCache:
    """A cache that is the sequence fed so far, one list per row (what the toy model reads)."""

    def __init__(self, prompt: list[int]):
        self.rows = [list(prompt)]

    def batch_repeat_interleave(self, n: int) -> None:
        self.rows = [list(r) for r in self.rows for _ in range(n)]

    def reorder_cache(self, index: torch.Tensor) -> None:
        self.rows = [list(self.rows[i]) for i in index.tolist()]


class ToyLM:
    """Logits that depend on the whole sequence (seeded by it), over ``vocab`` tokens."""

    def __init__(self, vocab: int, seed: int = 0, scale: float = 3.0, table=None):
        self.vocab, self.seed, self.scale, self.table = vocab, seed, scale, table or {}

    def logits_of(self, seq: list[int]) -> torch.Tensor:
        if tuple(seq) in self.table:
            return torch.tensor(self.table[tuple(seq)], dtype=torch.float32)
        g = torch.Generator().manual_seed(hash((self.seed, *seq)) % (2**31))
        return torch.randn(self.vocab, generator=g) * self.scale

    def start(self, prompt: list[int]) -> tuple[RowsCache, torch.Tensor]:
        cache = RowsCache(prompt)
        return cache, self.logits_of(cache.rows[0])[None]

    def step(self, ids: torch.Tensor, cache: RowsCache) -> torch.Tensor:
        for row, new in zip(cache.rows, ids.tolist(), strict=True):
            row.extend(new)
        return torch.stack([self.logits_of(r) for r in cache.rows])


def run(lm: ToyLM, gen: GenerationConfig, stop_ids=(), prompt=(1,)) -> list[int]:
    cache, logits = lm.start(list(prompt))
    return list(generate_tokens(lm.step, cache, logits, gen, stop_ids, context_ids=prompt))


GREEDY = GenerationConfig(temperature=0, max_new_tokens=8, repetition_penalty=1.0)


def test_greedy_takes_the_argmax_at_every_step():
    lm = ToyLM(vocab=11)
    seq, expected = [1], []
    for _ in range(8):
        token = int(lm.logits_of(seq).argmax())
        expected.append(token)
        seq.append(token)
    assert run(lm, GREEDY) == expected


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = torch.tensor([[0.15, 0.5, 0.05, 0.3]])  # most likely first: 1, 3, 0, 2
    logits = probs.log()
    kept = lambda p: set(torch.isfinite(top_p_filter(logits, p))[0].nonzero()[:, 0].tolist())  # noqa: E731
    assert kept(0.4) == {1}
    assert kept(0.8) == {1, 3}  # 0.5 + 0.3 reaches 0.8 exactly
    assert kept(0.81) == {1, 3, 0}
    assert kept(1.0) == {0, 1, 2, 3}
    g = torch.Generator().manual_seed(0)
    for _ in range(20):  # against a brute-force reading of the rule
        row = torch.randn(1, 9, generator=g) * 2
        p = float(torch.rand(1, generator=g))
        order = row[0].softmax(-1).argsort(descending=True).tolist()
        cumulative = row[0].softmax(-1)[order].cumsum(0)
        size = int((cumulative < p).sum()) + 1
        assert set(torch.isfinite(top_p_filter(row, p))[0].nonzero()[:, 0].tolist()) == set(
            order[:size]
        )


def test_top_p_applies_to_the_tempered_distribution_and_not_when_greedy():
    logits = torch.tensor([[0.6, 0.3, 0.1]]).log()
    none = torch.empty(1, 0, dtype=torch.long)
    sharp = filter_logits(logits, none, GenerationConfig(temperature=1.0, top_p=0.5))
    flat = filter_logits(logits, none, GenerationConfig(temperature=10.0, top_p=0.5))
    greedy = filter_logits(logits, none, GenerationConfig(temperature=0, top_p=0.5))
    assert int(torch.isfinite(sharp).sum()) == 1
    assert int(torch.isfinite(flat).sum()) == 2  # flatter after the temperature: more kept
    assert int(torch.isfinite(greedy).sum()) == 3


def test_repetition_penalty_divides_positive_and_multiplies_negative_logits():
    logits = torch.tensor([[2.0, -2.0, 1.0]])
    out = penalize_repetition(logits, torch.tensor([[0, 1, 1]]), 2.0)
    assert out.tolist() == [[1.0, -4.0, 1.0]]
    beyond = penalize_repetition(logits, torch.tensor([[7, 2]]), 2.0)  # 7: not an output token
    assert beyond.tolist() == [[2.0, -2.0, 0.5]]
    lm = ToyLM(vocab=3, table={(0,): [5.0, 4.0, 0.0], (0, 0): [5.0, 4.0, 0.0]})
    gen = GenerationConfig(temperature=0, max_new_tokens=1, repetition_penalty=1.5)
    assert run(lm, gen, prompt=(0,)) == [1]  # token 0 is in the prompt: 5 / 1.5 < 4


def test_a_seed_repeats_an_answer_and_another_seed_changes_it():
    lm = ToyLM(vocab=50, scale=0.5)  # a flat distribution: samples differ between seeds
    gen = GenerationConfig(temperature=1.0, top_p=1.0, max_new_tokens=20, seed=7)
    first = run(lm, gen)
    assert run(lm, gen) == first
    gen.seed = 8
    assert run(lm, gen) != first
    assert len(first) == 20


def test_a_stop_token_ends_the_answer_and_is_not_yielded():
    stop = 3
    table = {(1,): [0, 5, 0, 0], (1, 1): [0, 0, 5, 0], (1, 1, 2): [0, 0, 0, 5]}
    lm = ToyLM(vocab=4, table=table)
    assert run(lm, GREEDY, stop_ids=[stop]) == [1, 2]
    assert run(lm, GenerationConfig(temperature=0, max_new_tokens=1), stop_ids=[stop]) == [1]


def _exhaustive(lm: ToyLM, prompt: list[int], stop: int, length: int) -> list[int]:
    """The answer with the best hypothesis score among all answers up to ``length`` tokens."""
    best, best_answer = float("-inf"), None
    words = [t for t in range(lm.vocab) if t != stop]
    for n in range(length + 1):
        for answer in itertools.product(words, repeat=n):
            ends = [stop] if n < length else [stop, None]
            for end in ends:
                seq, total = list(prompt), 0.0
                for token in [*answer, *([end] if end is not None else [])]:
                    total += float(lm.logits_of(seq).log_softmax(-1)[token])
                    seq.append(token)
                score = hypothesis_score(total, n + (end is not None))
                if score > best:
                    best, best_answer = score, list(answer)
    return best_answer


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_wide_beam_search_finds_the_exhaustive_best(seed):
    lm, stop = ToyLM(vocab=4, seed=seed, scale=2.0), 3
    gen = GenerationConfig(num_beams=64, temperature=0, max_new_tokens=3, repetition_penalty=1.0)
    cache, logits = lm.start([1])
    assert beam_search(lm.step, cache, logits, gen, [stop]) == _exhaustive(lm, [1], stop, 3)


def test_two_beams_find_an_answer_greedy_misses():
    # greedy takes 0 (p 0.6) then a flat choice; beam keeps 1 (p 0.4) whose next token is certain
    flat, sure = [0.0, 0.0, 0.0], [-20.0, -20.0, 20.0]
    first = torch.tensor([0.6, 0.4, 1e-9]).log().tolist()
    table = {(9,): first, (9, 0): flat, (9, 1): sure}
    lm = ToyLM(vocab=3, table=table)
    greedy = GenerationConfig(temperature=0, max_new_tokens=2, repetition_penalty=1.0)
    assert run(lm, greedy, prompt=(9,))[0] == 0
    beams = GenerationConfig(num_beams=2, temperature=0, max_new_tokens=2, repetition_penalty=1.0)
    assert run(lm, beams, prompt=(9,)) == [1, 2]


def test_bad_settings_are_user_errors_before_any_step():
    lm = ToyLM(vocab=4)
    with pytest.raises(UserError, match="top_p"):
        run(lm, GenerationConfig(top_p=0))


def _byte_decode(ids: list[int]) -> str:
    return bytes(ids).decode("utf-8", errors="replace")


def _check_stream(tokens: list[int], decode, strip: bool = False) -> list[str]:
    items = list(stream_text(iter(tokens), decode, strip=strip))
    full = decode(tokens)
    assert items[-1] == (full.strip() if strip else full)
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(items, items[1:], strict=False))
    assert not any("\ufffd" in item for item in items)
    return items


def test_streamed_text_equals_the_full_decode_with_multibyte_characters():
    text = "Ça va? 日本語 🤝 naïve"
    items = _check_stream(list(text.encode()), _byte_decode)  # one token per byte
    assert "日本" in items[-1] and len(items) == len(text)  # each character shown once, whole


def test_streamed_text_with_a_real_byte_level_tokenizer():
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(TOKENIZER))
    text = " Person 1 (red) hugs Person 2 — ça 日本語 🤝🏽 ok."
    ids = tok.encode(text, add_special_tokens=False).ids
    decode = lambda ids: tok.decode(ids, skip_special_tokens=True)  # noqa: E731
    assert _check_stream(ids, decode)[-1] == text
    assert _check_stream(ids, decode, strip=True)[-1] == text.strip()
    end = tok.token_to_id("<end_of_utterance>")
    assert _check_stream([*ids, end], decode)[-1] == text  # special tokens show nothing
