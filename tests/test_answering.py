"""What every conversation shares (``Conversation``): history, ask, regenerate, clear, checks."""

from __future__ import annotations

import pytest

from ovhhir_core.answering import Conversation, GenerationConfig, Provenance
from ovhhir_core.errors import UserError
from ovhhir_core.timeline.facts_answerer import FactsConversation

PROVENANCE = Provenance(answerer="toy", model_id="echo (no model)", preset="none", grounded=False)


class Echo(Conversation):
    """Answers with the question reversed, one character at a time; fails on "fail"."""

    def __init__(self):
        super().__init__(PROVENANCE, facts="  measured  ")
        self.asked = 0

    def _stream(self, history, gen):
        self.asked += 1
        question = history[-1]["content"]
        if question == "fail":
            raise UserError("no prompt for that")
        answer = ""
        for ch in reversed(question):
            answer += ch
            yield answer

    def _score(self, question, answers):
        return [-float(len(a)) for a in answers]


def test_ask_streams_and_the_history_keeps_both_turns():
    conv = Echo()
    assert list(conv.ask("abc")) == ["c", "cb", "cba"]
    assert conv.history == [
        {"role": "user", "content": "abc"},
        {"role": "assistant", "content": "cba"},
    ]
    assert conv.prompt_facts == "measured" and conv.provenance is PROVENANCE


@pytest.mark.parametrize("question", ["", "   ", "\n"])
def test_an_empty_question_is_refused_at_the_call(question):
    conv = Echo()
    with pytest.raises(UserError, match="question is empty"):
        conv.ask(question)  # not iterated: refused at once
    assert conv.history == [] and conv.asked == 0


def test_bad_settings_are_refused_at_the_call():
    conv = Echo()
    with pytest.raises(UserError, match="top_p"):
        conv.ask("abc", GenerationConfig(top_p=0))
    assert conv.history == []


def test_regenerate_replaces_the_last_answer_and_needs_a_question():
    conv = Echo()
    with pytest.raises(UserError, match="nothing to regenerate"):
        conv.regenerate()
    list(conv.ask("ab"))
    list(conv.ask("xy"))
    assert list(conv.regenerate())[-1] == "yx"
    assert [t["content"] for t in conv.history] == ["ab", "ba", "xy", "yx"]
    conv.clear()
    assert conv.history == []


def test_a_question_that_cannot_be_asked_is_dropped_and_a_stopped_answer_kept():
    conv = Echo()
    with pytest.raises(UserError, match="no prompt"):
        list(conv.ask("fail"))
    assert conv.history == []
    stream = conv.ask("abcd")
    assert next(stream) == "d" and next(stream) == "dc"
    stream.close()  # the caller stops early
    assert conv.history[-1] == {"role": "assistant", "content": "dc"}


def test_score_checks_the_question_and_scores_nothing_for_no_answers():
    conv = Echo()
    assert conv.score("q", ["a", "bbb"]) == [-1.0, -3.0]
    assert conv.score("q", []) == []
    with pytest.raises(UserError, match="question is empty"):
        conv.score(" ", ["a"])


def test_the_facts_answerer_refuses_an_empty_question_at_once():
    conv = FactsConversation(PROVENANCE, None, "Person 1 approaches Person 2.")
    with pytest.raises(UserError, match="question is empty"):
        conv.ask("  ")
    assert conv.history == []
    assert "Person 1 approaches" in list(conv.ask("What happens?"))[-1]
