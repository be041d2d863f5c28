"""Secrets are checked before anything starts: empty, placeholder or default values are refused.

A placeholder left in place ("set-me", "changeme", ...) would let anyone sign webhook calls or reach the
action server, so every process refuses to start on one, naming the setting, never the value.
"""

from __future__ import annotations

import os
import re

MIN_LENGTH = 12
PLACEHOLDERS = frozenset(
    {
        "set-me", "setme", "set_me", "changeme", "change-me", "change_me", "replace-me", "replaceme",
        "placeholder", "secret", "password", "token", "default", "example", "test", "dev", "todo",
        "xxx", "none", "null", "undefined", "your-token", "your-secret", "my-secret", "verify-token",
    }
)  # fmt: skip


def problem_with(value: str | None) -> str | None:
    """Why `value` is not a usable secret, or None when it is."""
    text = (value or "").strip()
    if not text:
        return "is empty"
    lowered = text.lower()
    if lowered in PLACEHOLDERS or re.fullmatch(r"(.)\1*", text) or re.search(r"set[-_ ]?me|change[-_ ]?me", lowered):
        return "is a placeholder"
    if len(text) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    return None


def check_secret(name: str, value: str | None) -> str:
    """`value` when it is a usable secret; else ValueError naming the setting (never the value)."""
    problem = problem_with(value)
    if problem:
        raise ValueError(f"the secret {name} {problem}; set a real value before starting")
    return (value or "").strip()


def require_secret(name: str) -> str:
    """The secret in the environment variable `name`, checked."""
    return check_secret(name, os.environ.get(name))


def dev_values(env: dict[str, str], names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Fresh random values for the secrets of a local run that `env` does not set (only those)."""
    import secrets

    return {name: secrets.token_urlsafe(24) for name in names if not (env.get(name) or "").strip()}
