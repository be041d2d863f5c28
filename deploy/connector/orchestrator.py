"""The ChatOrchestrator: one queued customer message -> Rasa -> Send API replies, exactly once.

Idempotency (Powertools, DynamoDB) at three levels, all keyed on the message id:
- the whole message: a redelivered, answered message is skipped;
- the Rasa turn: a retry after a failed reply never asks Rasa twice (its answer is stored);
- each Send API message of the reply: a retry sends only what was not sent yet.
Transient failures are retried here with backoff; then the record fails back to the queue. On the receive
that reaches the queue's `maxReceiveCount` the customer gets one short apology before the message goes
to the dead-letter queue (the apology is idempotent too, so never two).
Nothing that may have happened is repeated: a Rasa turn that got no answer is not asked again (Rasa's
channel refuses a second turn with the same message id anyway), a Send API message whose answer was lost
is not sent again. A refused Page token fails the message back to the queue (and raises the alarm); a
customer who cannot be messaged is dropped once.
Each step starts only when the invocation's remaining time covers it (deploy/connector/budget.py); what
is left when time runs short is reported failed and comes back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Json

from deploy.connector import config, handover, rasa_client
from deploy.connector.budget import Clock, OutOfTime, StepTimes, step_times
from deploy.connector.events import ChatMessage
from deploy.connector.graph import (
    GraphAuthRefused,
    GraphClient,
    GraphError,
    GraphRejected,
    GraphUnavailable,
    GraphUncertain,
)
from deploy.connector.profiles import ProfileStore
from deploy.connector.responses import to_send_api_all
from deploy.connector.retry import RetryPolicy, call_with_retries

logger = Logger(service="messenger-connector", child=True)

TEXT_ONLY = "Sorry, I can only read text messages. Could you type what you need?"
APOLOGY = "Sorry, something went wrong on our side and I couldn't answer your last message. Please try again."

AskRasa = Callable[[str, str, dict[str, Any]], list[dict[str, Any]]]


class ChatRecord(SqsRecordModel):
    """An SQS record whose body is a queued customer message."""

    body: Json[ChatMessage]  # type: ignore[assignment]


class Delivery(BaseModel):
    """One Send API message of a reply; `key` (mid#index) makes sending it exactly-once."""

    key: str
    psid: str
    message: dict[str, Any]


class ChatOrchestrator:
    def __init__(
        self,
        graph: GraphClient,
        profiles: ProfileStore,
        ask_rasa: AskRasa,
        persistence: Callable[[], BasePersistenceLayer],
        rasa_policy: RetryPolicy,
        max_receive_count: int,
        idempotency_ttl_seconds: int = 2 * 24 * 3600,
        steps: StepTimes | None = None,
        handover: handover.Handover | None = None,
        release: Callable[[str], None] | None = None,
    ):
        self.handover = handover
        self.release = release  # hands the conversation back to the assistant (Rasa runs the release action)
        self.graph = graph
        self.steps = steps or step_times(config.settings())
        self.profiles = profiles
        self.ask_rasa = ask_rasa
        self.rasa_policy = rasa_policy
        self.max_receive_count = max_receive_count
        by_mid = IdempotencyConfig(event_key_jmespath="mid", expires_after_seconds=idempotency_ttl_seconds)
        by_key = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=idempotency_ttl_seconds)
        self._configs = (by_mid, by_key)

        # each idempotent function gets its own persistence layer: Powertools configures it per function
        def once(function: Callable, conf: IdempotencyConfig, argument: str, prefix: str) -> Callable:
            store = persistence()
            return idempotent_function(
                data_keyword_argument=argument, persistence_store=store, config=conf, key_prefix=prefix
            )(function)

        self._answer_once = once(self._answer, by_mid, "message", "message")
        self._rasa_turn_once = once(self._rasa_turn, by_mid, "message", "rasa-turn")
        self._deliver_once = once(self._deliver, by_key, "delivery", "send")

    # --- the Lambda's batch -------------------------------------------------------------------------

    def handle_batch(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """SQS batch in, partial batch failures out; a failed message also holds back its customer's later ones."""
        for conf in self._configs:
            conf.register_lambda_context(context)
        records = event.get("Records") or []
        finals = sum(1 for r in records if self._receives(r.get("attributes") or {}) >= self.max_receive_count)
        clock = Clock(context, self.steps, finals=finals)  # per batch, as the processor
        processor = SqsFifoPartialProcessor(model=ChatRecord, skip_group_on_error=True)
        return process_partial_response(
            event=event,
            record_handler=lambda record: self.handle_record(record, clock),
            processor=processor,
            context=context,
        )

    @staticmethod
    def _receives(attributes: dict[str, Any]) -> int:
        return int(attributes.get("ApproximateReceiveCount") or "1")

    def handle_record(self, record: ChatRecord, clock: Clock | None = None) -> None:
        message = record.body
        receives = int(record.attributes.ApproximateReceiveCount or "1")
        final = receives >= self.max_receive_count
        clock = clock or Clock(None, self.steps)
        try:
            self._answer_once(message=message, clock=clock)
        except IdempotencyAlreadyInProgressError:
            logger.info("message in progress elsewhere", mid=message.mid, psid=message.psid)
            raise
        except Exception as err:
            logger.warning(
                "message failed",
                mid=message.mid,
                psid=message.psid,
                receives=receives,
                final=final,
                out_of_time=isinstance(err, OutOfTime),
                error=_describe(err),
            )
            if final:
                self.apologise(message)
            raise
        finally:
            clock.settled(final)

    # --- one message --------------------------------------------------------------------------------

    def _answer(self, message: ChatMessage, clock: Clock) -> dict[str, Any]:
        started = time.monotonic()
        if message.kind == "handback":
            return self._hand_back(message)
        clock.need(self.steps.graph_attempt, "seen indicator")
        self._sender_action(message.psid, "mark_seen")
        if message.kind == "unsupported":
            self._send_all(message, [{"text": TEXT_ONLY}], clock)
            logger.info("answered unsupported message", mid=message.mid, psid=message.psid)
            return {"replies": 1}
        clock.need(self.steps.graph_attempt, "typing indicator")
        self._sender_action(message.psid, "typing_on")
        try:
            responses = self._rasa_turn_once(message=message, clock=clock)
        except rasa_client.RasaUnavailable:
            raise
        except rasa_client.RasaError as err:
            # includes RasaNoAnswer: the turn may have run, so it is not asked again
            logger.error("rasa gave no usable answer", mid=message.mid, psid=message.psid, error=str(err))
            self.apologise(message)
            return {"replies": 0, "refused": True}
        rasa_ms = round((time.monotonic() - started) * 1000)
        responses, handoff = handover.split(responses)
        outgoing = to_send_api_all(responses)
        sent = self._send_all(message, outgoing, clock)
        if handoff is not None and self.handover is not None:
            self.handover.open(message.psid, handoff)  # after the reply: then the thread is the inbox's
        logger.info(
            "answered",
            mid=message.mid,
            psid=message.psid,
            kind=message.kind,
            replies=sent,
            rasa_ms=rasa_ms,
            total_ms=round((time.monotonic() - started) * 1000),
        )
        return {"replies": sent}

    def _hand_back(self, message: ChatMessage) -> dict[str, Any]:
        """The inbox passed the thread back: the assistant takes over again and says nothing now."""
        if self.release is not None:
            call_with_retries(lambda: self.release(message.psid), self.rasa_policy, (rasa_client.RasaUnavailable,))
        if self.handover is not None:
            self.handover.released(message.psid)
        return {"replies": 0, "handback": True}

    def _rasa_turn(self, message: ChatMessage, clock: Clock) -> list[dict[str, Any]]:
        # the message id lets Rasa's channel refuse a second turn of the same message (deploy/rasa_channel.py)
        metadata: dict[str, Any] = {
            "message_id": message.mid,
            "page_id": message.page_id,
            "timestamp": message.timestamp,
        }
        first_name = self.first_name(message.psid, clock)
        if first_name:
            metadata["first_name"] = first_name
        # a turn, then its reply or an apology
        turn = self.steps.rasa_attempt + self.steps.apology
        clock.need(turn, "Rasa turn")

        def note(retry: int, err: BaseException) -> None:
            logger.warning("rasa call retried", mid=message.mid, retry=retry, error=str(err))

        return call_with_retries(
            lambda: self.ask_rasa(message.psid, message.text, metadata),
            self.rasa_policy,
            (rasa_client.RasaUnavailable,),
            on_retry=note,
            fits=lambda pause: clock.fits(pause + turn),
        )

    def first_name(self, psid: str, clock: Clock | None = None) -> str | None:
        """The cached first name; on first contact fetched from the Graph API and cached (also when unknown)."""
        cached = self.profiles.lookup(psid)
        if cached is not None:
            return cached or None
        if clock is not None and not clock.fits(self.steps.graph_call + self.steps.rasa_attempt):
            return None  # the answer matters more than the name: asked on the next message
        try:
            name = self.graph.first_name(psid)
        except (GraphUnavailable, GraphAuthRefused) as err:
            logger.warning("profile unavailable", psid=psid, error=_describe(err))
            return None  # not cached: the next message tries again
        except GraphRejected as err:
            logger.warning("profile refused", psid=psid, code=err.code, subcode=err.subcode)
            name = None
        self.profiles.save(psid, name or "")
        return name

    def _send_all(self, message: ChatMessage, outgoing: list[dict[str, Any]], clock: Clock) -> int:
        """Send in order; a permanent refusal stops the reply (logged), a transient one fails the message."""
        sent = 0
        for index, body in enumerate(outgoing):
            delivery = Delivery(key=f"{message.mid}#{index}", psid=message.psid, message=body)
            clock.need(self.steps.graph_call, "reply")
            try:
                self._deliver_once(delivery=delivery)
            except GraphRejected as err:
                logger.error(
                    "send refused",
                    mid=message.mid,
                    psid=message.psid,
                    status=err.status,
                    code=err.code,
                    subcode=err.subcode,
                )
                return sent
            sent += 1
        return sent

    def _deliver(self, delivery: Delivery) -> dict[str, Any]:
        try:
            result = self.graph.send_message(delivery.psid, delivery.message)
        except GraphUncertain as err:
            # it may have arrived: stored as done, so no retry sends a second copy
            logger.warning("send unconfirmed, not repeated", key=delivery.key, psid=delivery.psid, error=str(err))
            return {"message_id": None, "unconfirmed": True}
        return {"message_id": result.get("message_id")}

    def apologise(self, message: ChatMessage) -> None:
        """One short apology per message, whatever happens; never raises."""
        delivery = Delivery(key=f"{message.mid}#apology", psid=message.psid, message={"text": APOLOGY})
        try:
            self._deliver_once(delivery=delivery)
            logger.info("apology sent", mid=message.mid, psid=message.psid)
        except Exception as err:
            logger.error("apology failed", mid=message.mid, psid=message.psid, error=_describe(err))

    def _sender_action(self, psid: str, action: str) -> None:
        try:
            self.graph.sender_action(psid, action)
        except GraphError as err:
            logger.info("sender action failed", psid=psid, action=action, status=err.status, code=err.code)


def _describe(err: BaseException) -> str:
    """An error for the logs: our own exception texts carry no customer text and no secret."""
    if isinstance(err, (GraphError, rasa_client.RasaError, OutOfTime)):
        return f"{type(err).__name__}: {err}"
    return type(err).__name__


@lru_cache(maxsize=1)
def orchestrator() -> ChatOrchestrator:
    """The orchestrator of this process (one per Lambda cold start), from the settings and secrets."""
    conf = config.settings()
    graph = config.graph_client(conf)

    def ask_rasa(sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        return rasa_client.send_message(
            conf.rasa_url, sender, text, metadata, timeout=conf.rasa_timeout, connect_timeout=conf.connect_timeout
        )

    def release(sender: str) -> None:
        rasa_client.execute_action(conf.rasa_url, sender, "action_handoff_release", timeout=conf.rasa_timeout)

    handoffs = handover.Handover(
        graph,
        handover.HandoffFlags(conf.profiles_table),
        handover.StaffNotifier(conf.handoff_topic_arn),
        conf.handoff_app_id,
        conf.handoff_seconds,
    )
    return ChatOrchestrator(
        graph=graph,
        profiles=ProfileStore(conf.profiles_table, conf.profile_ttl_seconds),
        ask_rasa=ask_rasa,
        handover=handoffs,
        release=release,
        persistence=lambda: DynamoDBPersistenceLayer(table_name=conf.idempotency_table),
        rasa_policy=RetryPolicy(conf.retry_attempts, conf.retry_base_delay, conf.retry_max_delay),
        max_receive_count=conf.max_receive_count,
        idempotency_ttl_seconds=conf.idempotency_ttl_seconds,
        steps=step_times(conf),
    )


def handle_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry: an SQS batch in, `batchItemFailures` out."""
    return orchestrator().handle_batch(event, context)
