"""Questions no intent covers, answered from the business's own documents (the `rag` index).

Above the calibrated confidence the reply is the few most relevant sentences and the title of the
document they come from; below it the assistant says it doesn't know and gives the way to a person.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import contact_line, latest_intent, latest_text
from core.business import business
from rag.knowledge import Answer, EmptyQuestion, shared_knowledge

log = logging.getLogger(__name__)


def look_up(question: str) -> Answer | None:
    """The answer from the knowledge index, or None. Never raises: a broken index is logged and treated as no answer."""
    started = time.perf_counter()
    try:
        answer = shared_knowledge().answer(question)
    except EmptyQuestion:
        return None
    except Exception:  # the index, its files or the model: the customer still gets a reply
        log.exception("knowledge look-up failed")
        return None
    log.info(
        "knowledge look-up in %.1f ms: %s",
        (time.perf_counter() - started) * 1000,
        f"{answer.source} ({answer.score:.3f})" if answer else "no answer",
    )
    return answer


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        question = latest_text(tracker).strip()
        if question.startswith("/"):  # a button payload carries no question
            question = ""
        answer = await asyncio.to_thread(look_up, question) if question else None
        if answer:
            dispatcher.utter_message(text=f"{answer.text}\n(From: {answer.title})")
            return []
        biz = business()
        if latest_intent(tracker) == "nlu_fallback":
            opening = "Sorry, I'm not sure I understood that."
        else:
            opening = "Sorry, I don't know the answer to that one."
        dispatcher.utter_message(
            text=f"{opening} A person from our team can help: {contact_line(biz)}. "
            "I can also book, move or cancel an appointment for you."
        )
        return []
