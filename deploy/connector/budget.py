"""How long each step of answering a message may take, and the clock of one orchestrator invocation.

Every step's worst case follows from the settings (connect and answer timeouts, attempts and their
pauses). The orchestrator starts a step only when the invocation's remaining time covers it, plus one
apology for each message of the batch that is on its last receive (so no customer reaches the dead-letter
queue unanswered), plus a margin. A message cut short fails back to the queue and resumes where it stopped
(idempotency keeps what was done). tests/deploy/test_template.py checks the template's numbers with the
same functions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from deploy.connector.config import ConnectorSettings

MARGIN_SECONDS = 1.0  # left for the orchestrator's own bookkeeping (DynamoDB writes, the batch response)


class OutOfTime(Exception):
    """Not enough of the invocation is left for the next step: the message goes back to the queue."""


@dataclass(frozen=True)
class StepTimes:
    graph_attempt: float  # one Graph API call: connect + answer
    graph_call: float  # one Graph API call with all its attempts and the pauses between them
    rasa_attempt: float  # one Rasa turn: connect + answer (retries happen only when they fit)

    @property
    def apology(self) -> float:
        return self.graph_call


def step_times(conf: ConnectorSettings) -> StepTimes:
    graph_attempt = conf.connect_timeout + conf.graph_timeout
    pauses = (conf.retry_attempts - 1) * conf.retry_max_delay
    return StepTimes(
        graph_attempt=graph_attempt,
        graph_call=conf.retry_attempts * graph_attempt + pauses,
        rasa_attempt=conf.connect_timeout + conf.rasa_timeout,
    )


def record_worst_case(conf: ConnectorSettings) -> float:
    """One message answered with one Send API message, every step at its worst (the apology not included)."""
    steps = step_times(conf)
    sender_actions = 2 * steps.graph_attempt  # mark_seen, typing_on: one attempt each
    profile = steps.graph_call  # the first name, on a first contact
    return sender_actions + profile + steps.rasa_attempt + steps.graph_call + MARGIN_SECONDS


def batch_worst_case(conf: ConnectorSettings, batch_size: int) -> float:
    """The longest an invocation needs: one message at its worst and an apology for every message."""
    return record_worst_case(conf) + batch_size * step_times(conf).apology


class Clock:
    """The remaining time of one invocation, and the apologies it still owes time to."""

    def __init__(self, context: Any, steps: StepTimes, finals: int = 0):
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        seconds = remaining() / 1000 if callable(remaining) else float("inf")
        self.ends_at = time.monotonic() + seconds - MARGIN_SECONDS
        self.steps = steps
        self.finals = finals  # messages of the batch on their last receive, not apologised for or answered yet

    def left(self) -> float:
        return self.ends_at - time.monotonic()

    def fits(self, seconds: float) -> bool:
        """Does a step of `seconds` still fit, with the time of the apologies still owed left over?"""
        return self.left() >= seconds + self.finals * self.steps.apology

    def need(self, seconds: float, step: str) -> None:
        """Raise `OutOfTime` unless a step of `seconds` fits."""
        if not self.fits(seconds):
            raise OutOfTime(f"{max(self.left(), 0):.1f} s left, not enough for the {step}")

    def settled(self, final: bool) -> None:
        """A message is done (answered or apologised for): its reserved apology is free again."""
        if final and self.finals > 0:
            self.finals -= 1
