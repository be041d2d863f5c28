"""The assistant's words outside Rasa's own replies: the responses of `domain.yml`, rendered here.

Every text a customer sees is a response in domain.yml, with a variation per language (a condition on the
`language` slot). Rasa renders whole replies; these functions render the pieces an action puts inside one
(a line per booking, a button title) and the messages sent without Rasa (reminders, staff notices), with
the same rule: the variation whose condition names the language, else the one without a condition.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.settings import PROJECT_ROOT, env_path

LANGUAGES = ("en", "vi")
DEFAULT_LANGUAGE = "en"


class UnknownResponse(KeyError):
    pass


@lru_cache(maxsize=1)
def responses() -> dict[str, list[dict[str, Any]]]:
    path = env_path("DOMAIN_FILE", PROJECT_ROOT / "domain.yml")
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")).get("responses") or {}


def _language_of(variation: dict[str, Any]) -> str | None:
    for condition in variation.get("condition") or []:
        if condition.get("type") == "slot" and condition.get("name") == "language":
            return condition.get("value")
    return None


def variation(name: str, language: str | None) -> dict[str, Any]:
    """The first variation of response `name` for `language` (falling back to the unconditioned one)."""
    try:
        options = responses()[name]
    except KeyError as err:
        raise UnknownResponse(name) from err
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    matching = [v for v in options if _language_of(v) == language]
    default = [v for v in options if _language_of(v) is None]
    return (matching or default or options)[0]


def fill(template: str, values: dict[str, Any]) -> str:
    """`{name}` placeholders filled as Rasa fills them; an unknown name stays as written."""
    return re.sub(r"{([^\n{}]+?)}", lambda m: str(values.get(m.group(1), m.group(0))), template)


def render(name: str, language: str | None, /, **values: Any) -> str:
    """The text of response `name` in `language`, its placeholders filled from `values`."""
    return fill(variation(name, language).get("text") or "", values)
