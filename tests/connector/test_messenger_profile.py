"""The Messenger profile command: the request as Meta documents it (Messenger Profile API: get_started,
persistent_menu, ice_breakers), applied through the Graph API client, every postback handled by a rule."""

from __future__ import annotations

import re

import yaml

from core.settings import PROJECT_ROOT
from deploy import messenger_profile


def test_the_request_has_the_documented_shape():
    body = messenger_profile.profile()
    assert set(body) == {"get_started", "persistent_menu", "ice_breakers"}
    assert set(body["get_started"]) == {"payload"} and isinstance(body["get_started"]["payload"], str)

    # persistent_menu: locale objects, one "default"; postback buttons with a title of at most 30 characters
    menus = body["persistent_menu"]
    assert [m["locale"] for m in menus].count("default") == 1
    for menu in menus:
        assert set(menu) == {"locale", "composer_input_disabled", "call_to_actions"}
        assert menu["composer_input_disabled"] is False
        assert 1 <= len(menu["call_to_actions"]) <= 20
        for button in menu["call_to_actions"]:
            assert set(button) == {"type", "title", "payload"} and button["type"] == "postback"
            assert 0 < len(button["title"]) <= 30 and 0 < len(button["payload"]) <= 1000

    # ice_breakers, the localised format only (one request may not mix the two): at most 4 questions each
    breakers = body["ice_breakers"]
    assert [b["locale"] for b in breakers].count("default") == 1
    for breaker in breakers:
        assert set(breaker) == {"locale", "call_to_actions"}
        assert 1 <= len(breaker["call_to_actions"]) <= 4
        for question in breaker["call_to_actions"]:
            assert set(question) == {"question", "payload"} and 0 < len(question["question"]) <= 80
    assert all(re.fullmatch(r"[a-z]{2}_[A-Z]{2}|default", m["locale"]) for m in menus + breakers)


def test_the_menu_is_book_my_bookings_prices_and_a_person_in_both_languages():
    menus = {
        m["locale"]: [b["title"] for b in m["call_to_actions"]] for m in messenger_profile.profile()["persistent_menu"]
    }
    assert menus == {
        "default": ["Book", "My bookings", "Prices", "Talk to a person"],
        "vi_VN": ["Đặt lịch", "Lịch hẹn của tôi", "Bảng giá", "Gặp nhân viên"],
    }


def test_every_postback_is_handled_by_a_rule_of_its_own():
    rules = yaml.safe_load((PROJECT_ROOT / "data" / "rules.yml").read_text())["rules"]
    started_by = {
        rule["steps"][0]["intent"]
        for rule in rules
        if not rule.get("condition") and "intent" in rule["steps"][0] and len(rule["steps"]) > 1
    }
    intents = {payload.removeprefix("/") for payload in messenger_profile.postbacks()}
    assert intents == {"greet", "book_appointment", "list_bookings", "ask_price", "ask_opening_hours", "request_human"}
    assert intents <= started_by


def test_apply_sends_it_through_the_graph_api_and_dry_run_sends_nothing(connector, graph, capsys):
    assert messenger_profile.main(["apply", "--dry-run"]) == 0
    assert '"persistent_menu"' in capsys.readouterr().out
    assert graph.snapshot() == []
    assert messenger_profile.main(["apply"]) == 0
    [call] = graph.snapshot()
    assert (call["method"], call["path"]) == ("POST", "/me/messenger_profile")
    assert call["json"] == messenger_profile.profile()
