"""Questions no intent covers, answered from the business's own documents (the `rag` index).

Above the calibrated confidence the reply is the few most relevant sentences and the title of the
document they come from; below it the assistant says it doesn't know and gives the way to a person. A
message NLU called out of scope is looked up too, with a stricter confidence: a real question about the
business is answered, an unrelated request (weather, banking, travel) is declined. Questions are looked up in
the documents of the conversation's language, so a Vietnamese conversation is answered from the Vietnamese
documents; each language's model has its own confidence scale, hence a threshold per language.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.availability import check_availability
from actions.conversation import contact_values, language, latest_intent, latest_text
from actions.date_time import read_customer_when
from actions.info import not_offered, say_not_offered
from core.business import business
from core.values import find_email
from rag.embedding import is_multilingual
from rag.knowledge import Answer, EmptyQuestion, shared_knowledge

log = logging.getLogger(__name__)

# How sure the documents must be before a message NLU thought unrelated gets their answer: above every
# message of the out-of-domain set (tests/data/out_of_domain.txt: its highest is 0.75, "can i move my
# notary appointment to friday"), below real questions NLU misses ("are the towels fresh for each client?"
# is 0.81).
OUT_OF_SCOPE_MIN_SCORE = float(os.environ.get("RAG_OUT_OF_SCOPE_MIN_SCORE", "0.77"))
# The same for the languages multilingual-e5 reads (rag.knowledge: a centred confidence): above every
# question of tests/data/rag_unanswerable_vi.txt.
OUT_OF_SCOPE_MULTILINGUAL_MIN_SCORE = float(os.environ.get("RAG_OUT_OF_SCOPE_MULTILINGUAL_MIN_SCORE", "0.18"))


def out_of_scope_min_score(language: str) -> float:
    return OUT_OF_SCOPE_MULTILINGUAL_MIN_SCORE if is_multilingual(language) else OUT_OF_SCOPE_MIN_SCORE


_QUESTION = re.compile(
    r"\?\s*$|^\s*(?:what|whats|what's|where|when|how|why|which|who|is|are|do|does|did|can|could|may|will|would|should"
    r"|any|có|co|bao|mấy|may|ở đâu|o dau)\b",
    re.IGNORECASE,
)


def look_up(question: str, min_score: float | None = None, language: str | None = None) -> Answer | None:
    """The answer from the knowledge index, or None. Never raises: a broken index is logged and treated as no answer."""
    started = time.perf_counter()
    try:
        answer = shared_knowledge().answer(question, language=language)
    except EmptyQuestion:
        return None
    except Exception:  # the index, its files or the model: the customer still gets a reply
        log.exception("knowledge look-up failed")
        return None
    if answer is not None and min_score is not None and answer.score < min_score:
        answer = None
    log.info(
        "knowledge look-up in %.1f ms: %s",
        (time.perf_counter() - started) * 1000,
        f"{answer.source} ({answer.score:.3f})" if answer else "no answer",
    )
    return answer


def answer_from_documents(dispatcher: CollectingDispatcher, tracker: Tracker, strict: bool = False) -> bool:
    """Answer the latest message from the documents (with the out-of-scope threshold when `strict`); False when
    they don't answer it."""
    question = latest_text(tracker).strip()
    spoken = language(tracker)
    min_score = out_of_scope_min_score(spoken) if strict else None
    answer = look_up(question, min_score, spoken) if question else None
    if answer is None:
        return False
    dispatcher.utter_message(response="utter_knowledge_answer", answer=answer.text, title=answer.title)
    return True


def changes_the_time(tracker: Tracker) -> bool:
    """A message NLU could not place that names a time while a service is being discussed."""
    if latest_intent(tracker) != "nlu_fallback" or not tracker.get_slot("service") or tracker.active_loop_name:
        return False
    reading = read_customer_when(latest_text(tracker), tracker, business())
    return reading.when is not None and reading.problem is None


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if changes_the_time(tracker):  # "actually make it 11" after the free times of a service
            return check_availability(dispatcher, tracker)
        if answer_from_documents(dispatcher, tracker):
            return []
        biz = business()
        asked = not_offered(tracker, biz)
        if asked:
            say_not_offered(dispatcher, tracker, asked, biz)
            return []
        unsure = latest_intent(tracker) == "nlu_fallback"
        dispatcher.utter_message(
            response="utter_not_understood" if unsure else "utter_dont_know", **contact_values(biz)
        )
        return []


class ActionOutOfScope(Action):
    """Out of scope for NLU: an email given, a question the documents answer, something not offered, or a
    polite no (never a booking flow)."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if find_email(latest_text(tracker)):
            dispatcher.utter_message(response="utter_email_noted", email=find_email(latest_text(tracker)))
            return []
        if _QUESTION.search(latest_text(tracker)) and answer_from_documents(dispatcher, tracker, strict=True):
            return []
        biz = business()
        asked = not_offered(tracker, biz)
        if asked:
            say_not_offered(dispatcher, tracker, asked, biz)
            return []
        dispatcher.utter_message(response="utter_out_of_scope", **contact_values(biz))
        return []


# words that ask where the spa is, in both languages (with and without diacritics)
_PLACE = re.compile(
    r"\b(where|address|located|location|find you|get there|get to|directions?|map|street|district|near|"
    r"ở đâu|o dau|địa chỉ|dia chi|chỗ nào|cho nao|đường|duong|quận|quan)\b",
    re.I,
)


def _unsure_it_is_about_the_place(tracker: Tracker) -> bool:
    """NLU said "where are you?" without conviction, and the message names nothing of a place."""
    confidence = (tracker.latest_message.get("intent") or {}).get("confidence") or 0.0
    return confidence < 0.8 and not _PLACE.search(latest_text(tracker))


class ActionAnswerLocation(Action):
    def name(self) -> str:
        return "action_answer_location"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if _unsure_it_is_about_the_place(tracker):  # "is there a dress code for the sauna?"
            return await ActionAnswerQuestion().run(dispatcher, tracker, domain)
        ident = business().identity
        lang = language(tracker)
        dispatcher.utter_message(
            response="utter_location",
            address=ident.address,
            address_note=ident.note("address_note", lang),
            phone=ident.phone,
            phone_note=ident.note("phone_note", lang),
        )
        return []
