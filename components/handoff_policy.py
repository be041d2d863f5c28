"""While a person holds the conversation, the assistant listens and says nothing.

The `handoff_active` slot holds the time (epoch seconds) of the handoff's last activity: set when
`action_handoff` opens it and again on each staff reply, emptied by `action_handoff_release`. While it
is set and younger than the quiet time (`HANDOFF_QUIET_HOURS`, as `core.handoffs` reads it), this policy
answers every customer message with `action_listen` at the highest priority: the message is kept in the
tracker (the transcript shows it), the slots are read as always, and nothing is sent. An older value is
a handoff that went quiet: the assistant answers again. Runs in every channel, `rasa shell` included.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from core.settings import settings

SLOT = "handoff_active"


def holds_conversation(tracker: DialogueStateTracker, quiet_seconds: float) -> bool:
    """Is a person handling this conversation as of the customer's latest message?"""
    since = tracker.get_slot(SLOT)
    if since in (None, ""):
        return False
    try:
        since = float(since)
    except (TypeError, ValueError):
        return False
    latest = next((e for e in reversed(tracker.events) if isinstance(e, UserUttered)), None)
    at = latest.timestamp if latest is not None else since
    return at - since < quiet_seconds


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class HandoffPolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # above RulePolicy (6): a rule must not answer a customer whom a person is talking to
        return {"priority": 7}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(self, training_trackers: list, domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        result = self._default_predictions(domain)
        if tracker.latest_action_name == ACTION_LISTEN_NAME and holds_conversation(
            tracker, settings().handoff_quiet_hours * 3600
        ):
            result[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(result)
