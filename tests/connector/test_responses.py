"""Rasa responses -> Send API messages, and the text splitting rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from deploy.connector.responses import CHOOSE_PROMPT, split_text, to_send_api


def test_short_text_is_one_message():
    assert to_send_api({"recipient_id": "1", "text": "Hi Lan!"}) == [{"text": "Hi Lan!"}]


def test_long_text_is_split_after_sentences():
    text = " ".join(f"This is sentence {n} of the opening hours answer." for n in range(30))
    chunks = split_text(text)
    assert len(chunks) > 1 and all(len(c) <= 640 for c in chunks)
    assert all(c.endswith(".") for c in chunks)
    assert " ".join(chunks) == text


def test_a_sentence_longer_than_the_limit_is_split_on_spaces_and_a_word_hard():
    words = "relax " * 200
    chunks = split_text(words + "x" * 1500)
    assert all(len(c) <= 640 for c in chunks)
    assert "".join(chunks).replace(" ", "") == (words + "x" * 1500).replace(" ", "")


@given(st.text(min_size=0, max_size=3000))
def test_splitting_never_loses_a_word_nor_exceeds_the_limit(text):
    chunks = split_text(text)
    assert all(0 < len(c) <= 640 for c in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())


def test_buttons_become_quick_replies_on_the_last_chunk():
    buttons = [{"title": f"Option number {n} with a long name", "payload": f'/inform{{"n": {n}}}'} for n in range(15)]
    [message] = to_send_api({"text": "Which one?", "buttons": buttons})
    assert message["text"] == "Which one?"
    replies = message["quick_replies"]
    assert len(replies) == 13
    assert replies[0] == {"content_type": "text", "title": "Option number 0 with", "payload": '/inform{"n": 0}'}
    assert all(len(r["title"]) <= 20 for r in replies)


def test_yes_no_buttons_are_quick_replies():
    [message] = to_send_api(
        {
            "text": "Shall I book it?",
            "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        }
    )
    assert [r["payload"] for r in message["quick_replies"]] == ["/affirm", "/deny"]


def test_a_link_button_makes_a_button_template_of_at_most_three_buttons():
    buttons = [
        {"title": "Directions on the map", "url": "https://maps.example.com/lotus"},
        {"title": "Book", "payload": "/book_appointment"},
        {"title": "Prices", "payload": "/ask_price"},
        {"title": "Hours", "payload": "/ask_opening_hours"},
    ]
    [message] = to_send_api({"text": "We are at 12 Le Loi.", "buttons": buttons})
    payload = message["attachment"]["payload"]
    assert message["attachment"]["type"] == "template" and payload["template_type"] == "button"
    assert payload["text"] == "We are at 12 Le Loi."
    assert payload["buttons"] == [
        {"type": "web_url", "url": "https://maps.example.com/lotus", "title": "Directions on the ma"},
        {"type": "postback", "title": "Book", "payload": "/book_appointment"},
        {"type": "postback", "title": "Prices", "payload": "/ask_price"},
    ]


def test_buttons_without_text_get_a_prompt():
    [message] = to_send_api({"buttons": [{"title": "Yes", "payload": "/affirm"}]})
    assert message["text"] == CHOOSE_PROMPT


def test_image_and_custom():
    assert to_send_api({"image": "https://example.com/a.jpg"}) == [
        {"attachment": {"type": "image", "payload": {"url": "https://example.com/a.jpg", "is_reusable": True}}}
    ]
    custom = {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": []}}}
    assert to_send_api({"custom": custom}) == [custom]
    assert to_send_api({"text": "Our spa", "image": "https://e.com/s.jpg"})[0] == {"text": "Our spa"}


def test_nothing_to_send():
    assert to_send_api({"recipient_id": "1"}) == []
    assert to_send_api({"text": "   "}) == []
