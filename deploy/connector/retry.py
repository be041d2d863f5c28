"""Exponential backoff with full jitter, for the transient failures of Rasa and the Graph API."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # calls in all, the first included
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, retry: int, hint: float | None = None) -> float:
        """Seconds before retry number `retry` (0-based): full jitter under a doubling cap, or the server's hint."""
        cap = min(self.max_delay, self.base_delay * (2**retry))
        if hint is not None:
            return min(self.max_delay, max(hint, 0.0))
        return random.uniform(0, cap)


def call_with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    transient: tuple[type[BaseException], ...],
    on_retry: Callable[[int, BaseException], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying `transient` errors; the last one is raised when the attempts run out."""
    for attempt in range(policy.attempts):
        try:
            return call()
        except transient as err:
            if attempt + 1 >= policy.attempts:
                raise
            if on_retry:
                on_retry(attempt + 1, err)
            sleep(policy.delay(attempt, getattr(err, "retry_after", None)))
    raise AssertionError("unreachable")
