"""Exponential backoff with full jitter, for the transient failures of Rasa and the Graph API."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

T = TypeVar("T")


def never_sent(err: BaseException) -> bool:
    """Did this HTTP failure happen before the request left (no connection made: refused, connect timeout)?

    Only then is a call that changes something safe to repeat; a read timeout or a dropped connection
    leaves the server with the request, maybe acting on it.
    """
    if isinstance(err, requests.ConnectTimeout):
        return True
    if isinstance(err, requests.ConnectionError) and not isinstance(err, requests.Timeout):
        reason = err.args[0] if err.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        return isinstance(reason, NewConnectionError)  # refused, unreachable, name not resolved
    return False


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
    fits: Callable[[float], bool] | None = None,
) -> T:
    """Run `call`, retrying `transient` errors; the last one is raised when the attempts run out.

    `fits(pause)` says whether a retry after `pause` seconds still ends in time; when it does not, the
    last error is raised at once (a caller with a deadline never starts what it cannot finish).
    """
    for attempt in range(policy.attempts):
        try:
            return call()
        except transient as err:
            if attempt + 1 >= policy.attempts:
                raise
            pause = policy.delay(attempt, getattr(err, "retry_after", None))
            if fits is not None and not fits(pause):
                raise
            if on_retry:
                on_retry(attempt + 1, err)
            sleep(pause)
    raise AssertionError("unreachable")
