"""The Page's Messenger profile from the business configuration: Get Started, the persistent menu
(Book, My bookings, Prices, Talk to a person) and ice breakers, in English (default) and Vietnamese.

    python -m deploy.messenger_profile apply [--dry-run]

Every postback is an intent payload the assistant handles (rules in data/rules.yml); the texts are
responses in domain.yml. `--dry-run` prints the request and sends nothing.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from core import responses

GET_STARTED = "/greet"
MENU = (  # (label response, payload)
    ("utter_label_book", "/book_appointment"),
    ("utter_label_my_bookings", "/list_bookings"),
    ("utter_label_prices", "/ask_price"),
    ("utter_label_talk_to_person", "/request_human"),
)
ICE_BREAKERS = (
    ("utter_ice_breaker_book", "/book_appointment"),
    ("utter_ice_breaker_prices", "/ask_price"),
    ("utter_ice_breaker_hours", "/ask_opening_hours"),
    ("utter_ice_breaker_person", "/request_human"),
)
# Messenger locales: English is the default, Vietnamese for customers whose Messenger is in Vietnamese
LOCALES = (("default", "en"), ("vi_VN", "vi"))
TITLE_LIMIT = 30  # persistent menu titles
QUESTION_LIMIT = 80  # ice breaker questions


def profile() -> dict[str, Any]:
    """The Messenger Profile API request body."""
    menus, breakers = [], []
    for locale, language in LOCALES:
        menus.append(
            {
                "locale": locale,
                "composer_input_disabled": False,
                "call_to_actions": [
                    {"type": "postback", "title": responses.render(name, language)[:TITLE_LIMIT], "payload": payload}
                    for name, payload in MENU
                ],
            }
        )
        breakers.append(
            {
                "locale": locale,
                "call_to_actions": [
                    {"question": responses.render(name, language)[:QUESTION_LIMIT], "payload": payload}
                    for name, payload in ICE_BREAKERS
                ],
            }
        )
    return {"get_started": {"payload": GET_STARTED}, "persistent_menu": menus, "ice_breakers": breakers}


def postbacks() -> set[str]:
    """Every payload the profile can send."""
    return {GET_STARTED, *(p for _, p in MENU), *(p for _, p in ICE_BREAKERS)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["apply"])
    parser.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    args = parser.parse_args(argv)
    body = profile()
    if args.dry_run:
        print("POST /me/messenger_profile")
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0
    from deploy.connector.clients import graph_client

    result = graph_client().set_messenger_profile(body)
    print(f"Messenger profile applied: {json.dumps(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
