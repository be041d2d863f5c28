"""The action that answers open questions from the knowledge index."""

from __future__ import annotations

import shutil

import pytest

from actions import knowledge as knowledge_action
from actions.knowledge import ActionAnswerQuestion, ActionOutOfScope
from rag import knowledge as rag_knowledge
from rag.config import rag_settings
from rag.knowledge import Knowledge
from tests.test_actions import make_tracker, names, run, texts


@pytest.fixture
def index(knowledge, monkeypatch):
    """The action server's Knowledge is the session's index."""
    monkeypatch.setattr(rag_knowledge, "_shared", knowledge)
    return knowledge


def ask(text: str, intent: str = "ask_question", loop: str | None = None) -> str:
    _, messages = run(ActionAnswerQuestion(), make_tracker(text, intent=intent, loop=loop))
    assert len(messages) == 1
    return texts(messages)


def test_a_question_gets_the_relevant_sentences_and_the_source_title(index):
    reply = ask("is the facial safe if I'm allergic to nuts?")
    assert "nut-free" in reply and "(From: Health, allergies and skin conditions)" in reply
    assert len(reply) <= 640 + len("\n(From: Health, allergies and skin conditions)")
    reply = ask("where do I leave my motorbike?")
    assert "basement" in reply and "Le Loi" in reply and "(From: Parking and getting here)" in reply


def test_an_unanswerable_question_says_so_and_offers_a_person(index):
    reply = ask("what's the best sushi place in town?")
    assert "don't know" in reply and "+84 28 3822 0000" in reply and "hello@lotusspa.example" in reply
    assert "From:" not in reply


def test_an_unclear_message_is_answered_when_the_documents_know(index):
    reply = ask("gift vouchers??", intent="nlu_fallback")
    assert "Gift cards" in reply and "$20" in reply
    reply = ask("zzkk frobnicate the wug", intent="nlu_fallback")
    assert "not sure I understood" in reply and "+84 28 3822 0000" in reply


def test_a_button_payload_or_empty_text_is_not_looked_up(index, monkeypatch):
    monkeypatch.setattr(knowledge_action, "look_up", lambda *args, **kwargs: pytest.fail("looked up"))
    assert "+84 28 3822 0000" in ask("/ask_question")
    assert "+84 28 3822 0000" in ask("   ")


def test_a_question_during_the_booking_form_leaves_the_form_to_ask_again(index):
    events, messages = run(
        ActionAnswerQuestion(),
        make_tracker("what is the wifi password?", intent="ask_question", loop="booking_form", requested="when"),
    )
    assert events == {} and "LotusGuest" in texts(messages)


def test_a_broken_index_still_gets_a_reply(tmp_path, monkeypatch):
    documents = tmp_path / "documents"
    shutil.copytree(rag_settings().documents_dir, documents)
    broken = Knowledge(tmp_path / "index", documents)
    monkeypatch.setattr(rag_knowledge, "_shared", broken)
    shutil.rmtree(documents)  # the index can neither load nor be built
    reply = ask("is there parking?")
    assert "don't know" in reply and "+84 28 3822 0000" in reply


@pytest.mark.parametrize(
    "text", ["are the towels fresh for each client?", "is wifi free for guests?", "until when can I cancel for free?"]
)
def test_a_real_question_nlu_called_out_of_scope_is_answered(index, text):
    _, messages = run(ActionOutOfScope(), make_tracker(text, intent="out_of_scope", loop=None))
    assert names(messages) == ["utter_knowledge_answer"]


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather in hanoi tomorrow?",
        "cancel my table booking at the steakhouse",
        "transfer 2 million to my mom",
    ],
)
def test_an_unrelated_request_is_declined_with_the_way_to_the_team(index, text):
    _, messages = run(ActionOutOfScope(), make_tracker(text, intent="out_of_scope", loop=None))
    assert names(messages) == ["utter_out_of_scope"] and "+84 28 3822 0000" in texts(messages)


def test_an_out_of_domain_set_never_gets_a_document_answer(index):
    from scripts import nlu_eval

    answered = []
    for text in nlu_eval.load_out_of_domain():
        _, messages = run(ActionOutOfScope(), make_tracker(text, intent="out_of_scope", loop=None))
        if names(messages) == ["utter_knowledge_answer"]:
            answered.append(text)
    assert len(answered) <= len(nlu_eval.load_out_of_domain()) * 0.01, answered


def test_a_time_nlu_cannot_place_after_free_times_checks_that_time(clean_db):
    """ "actually make it 11" after the answer for a massage on Thursday: the 11:00 of that Thursday is checked."""
    from tests.test_actions import at

    discussed = {"service": "Swedish Massage", "discussed_when": at(3, 9).isoformat()}
    tracker = make_tracker("actually make it 11", intent="nlu_fallback", slots=discussed, loop=None)
    _, messages = run(ActionAnswerQuestion(), tracker)
    assert names(messages) == ["utter_time_free"]
    assert messages[0]["when"].endswith("11:00") and at(3, 11).strftime("%-d") in messages[0]["when"]
    # without a service under discussion it stays a message not understood
    _, messages = run(ActionAnswerQuestion(), make_tracker("actually make it 11", intent="nlu_fallback", loop=None))
    assert names(messages) == ["utter_not_understood"]


@pytest.mark.parametrize(
    "text", ["gửi xe máy ở đâu vậy ạ?", "cho minh hoi gui xe may o dau", "de xe may cho nao v shop"]
)
def test_a_vietnamese_question_is_answered_from_the_vietnamese_documents(index, text):
    _, messages = run(ActionAnswerQuestion(), make_tracker(text, loop=None, slots={"language": "vi"}))
    assert names(messages) == ["utter_knowledge_answer"]
    assert "Lê Lợi" in texts(messages) and "Gửi xe và đường đến spa" in texts(messages)


def test_an_unanswerable_vietnamese_question_gets_i_dont_know(index):
    for text in ("gia vang hom nay bao nhieu", "ai vô địch world cup 2018"):
        _, messages = run(ActionAnswerQuestion(), make_tracker(text, loop=None, slots={"language": "vi"}))
        assert names(messages) == ["utter_dont_know"], text


def test_a_vietnamese_question_nlu_called_out_of_scope_is_answered_and_an_unrelated_one_declined(index):
    tracker = make_tracker("co wifi mien phi ko?", intent="out_of_scope", loop=None, slots={"language": "vi"})
    assert names(run(ActionOutOfScope(), tracker)[1]) == ["utter_knowledge_answer"]
    tracker = make_tracker("có nên mua vàng lúc này không?", intent="out_of_scope", loop=None, slots={"language": "vi"})
    assert names(run(ActionOutOfScope(), tracker)[1]) == ["utter_out_of_scope"]


def test_a_question_nlu_half_takes_for_where_we_are_is_answered_as_a_question(clean_db):
    from actions.knowledge import ActionAnswerLocation

    unsure = make_tracker("is there a dress code for the sauna?", intent="ask_location", loop=None)
    unsure.latest_message["intent"]["confidence"] = 0.64
    assert names(run(ActionAnswerLocation(), unsure)[1]) == ["utter_dont_know"]
    for text in ("where are you located", "dia chi spa o dau vay"):
        sure_enough = make_tracker(text, intent="ask_location", loop=None)
        sure_enough.latest_message["intent"]["confidence"] = 0.6
        assert names(run(ActionAnswerLocation(), sure_enough)[1]) == ["utter_location"], text
