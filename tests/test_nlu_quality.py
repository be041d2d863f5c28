"""NLU quality on held-out material (tests/data/), measured on the trained model through the Rasa server.

The held-out sets are never used for training; the first test makes sure of that.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.language import strip_marks
from rag import evaluation as rag_evaluation
from scripts import nlu_eval

ROOT = Path(__file__).resolve().parent.parent
VI_INTENT_ACCURACY = 0.85
VI_ENTITY_F1 = 0.7


def _norm(text: str) -> str:
    """Lower case, no punctuation, no diacritics: "Đặt lịch!" and "dat lich" are the same sentence."""
    return re.sub(r"[^\w]+", " ", strip_marks(text)).strip()


def _language_messages() -> list[str]:
    lines = (nlu_eval.DATA / "language_messages.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[2] for line in lines if line and not line.startswith("#")]


def test_no_evaluation_sentence_is_in_the_training_data():
    training = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        training |= {_norm(text) for text, _, _ in nlu_eval.load_examples(path)}
    evaluation = [t for t, _, _ in nlu_eval.load_examples(nlu_eval.DATA / "nlu_heldout.yml")]
    evaluation += [t for t, _, _ in nlu_eval.load_examples(nlu_eval.DATA / "smalltalk.yml")]
    evaluation += [t for t, _, _ in nlu_eval.load_examples(nlu_eval.DATA / "nlu_heldout_vi.yml")]
    evaluation += _language_messages()
    evaluation += nlu_eval.load_out_of_domain()
    evaluation += [q for q, _ in rag_evaluation.load_questions()] + rag_evaluation.load_unanswerable()
    leaked = [t for t in evaluation if _norm(t) in training and len(_norm(t).split()) > 2]
    assert leaked == []


def test_held_out_sets_are_large_enough():
    assert len(nlu_eval.load_out_of_domain()) >= 300
    intents = {intent for _, intent, _ in nlu_eval.load_examples(nlu_eval.DATA / "nlu_heldout.yml")}
    assert len(intents) == 19
    vietnamese = nlu_eval.load_examples(nlu_eval.DATA / "nlu_heldout_vi.yml")
    assert len({intent for _, intent, _ in vietnamese}) == 19
    marks = sum(nlu_eval.has_diacritics(text) for text, _, _ in vietnamese)
    assert marks >= 100 and len(vietnamese) - marks >= 100


@pytest.fixture(scope="module")
def report(stack) -> dict:
    return nlu_eval.evaluate(stack["rasa_url"])


@pytest.mark.e2e
def test_out_of_domain_messages_rarely_start_a_task(report):
    assert report["out_of_domain_false_task_rate"] <= 0.05, report["out_of_domain_false_task_examples"]


@pytest.mark.e2e
def test_small_talk_is_recognised(report):
    assert report["smalltalk_accuracy"] >= 0.86, report["smalltalk_misses"]


@pytest.mark.e2e
def test_unseen_in_domain_phrasings(report):
    assert report["heldout_intent_accuracy"] >= 0.85, report["heldout_confusions"]
    assert report["entity_f1"] >= 0.75


@pytest.mark.e2e
@pytest.mark.parametrize("part", ["with_diacritics", "without_diacritics"])
def test_unseen_vietnamese_phrasings(report, part):
    figures = report["vietnamese"][part]
    assert figures["intent_accuracy"] >= VI_INTENT_ACCURACY, figures["confusions"]
    assert figures["entity_f1"] >= VI_ENTITY_F1
