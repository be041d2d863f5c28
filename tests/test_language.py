"""The language of each customer message: measured on a labelled set, and the rule for short messages."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from core import language

DATA = Path(__file__).resolve().parent / "data"


def _labelled() -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "language_messages.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            want, kind, text = line.split("\t")
            rows.append((want, kind, text))
    return rows


def test_labelled_set_covers_every_kind_of_message():
    kinds = Counter(kind for _, kind, _ in _labelled())
    assert len(_labelled()) >= 500
    for kind in ("en", "vi_marks", "vi_plain", "shorthand", "mixed", "telex", "vni", "decomposed", "mojibake"):
        assert kinds[kind] >= 5, kind
    assert not {text for _, _, text in _labelled()} & {text for _, text in language.load_samples()}


def test_detection_accuracy_on_the_labelled_set():
    """Each message is read with the other language as the conversation's, so a message must tell."""
    rows = _labelled()
    wrong = [(kind, text) for want, kind, text in rows if language.detect(text, "en" if want == "vi" else "vi") != want]
    assert 1 - len(wrong) / len(rows) >= 0.97, wrong
    by_kind = Counter(kind for kind, _ in wrong)
    totals = Counter(kind for _, kind, _ in rows)
    for kind, misses in by_kind.items():
        assert misses / totals[kind] <= 0.1, (kind, [t for k, t in wrong if k == kind])


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        # nothing to tell: the conversation's language stays
        ("ok", "vi", "vi"),
        ("ok", "en", "en"),
        ("yes", "vi", "vi"),
        ("Yes please", "vi", "en"),
        ("0903 123 456", "vi", "vi"),
        ("+84 903 123 456", "en", "en"),
        ("15h", "en", "en"),
        ("15h30", "vi", "vi"),
        ("3pm", "vi", "vi"),
        ("10/12", "en", "en"),
        ("LS-7K2M9P", "vi", "vi"),
        ("lan.nguyen@gmail.com", "en", "en"),
        ("/affirm", "vi", "vi"),
        ('/choose_slot{"when": "2026-12-08T15:00"}', "en", "en"),
        ("👍", "vi", "vi"),
        ("😊😊", "en", "en"),
        ("", "vi", "vi"),
        (None, "en", "en"),
        ("...", "vi", "vi"),
        ("massage", "vi", "vi"),
        ("massage", "en", "en"),
        ("Mai", "en", "en"),
        ("mai", "en", "en"),
        ("Tuan", "vi", "vi"),
        ("Sarah Johnson", "vi", "vi"),
        ("Nguyen Thi Lan", "en", "en"),
        ("thanks", "vi", "vi"),
        ("hi", "en", "en"),
        ("ok 👌", "vi", "vi"),
        # short, but clear
        ("dạ", "en", "vi"),
        ("ko", "en", "vi"),
        ("dc", "en", "vi"),
        ("oke chị", "en", "vi"),
        ("ừ", "en", "vi"),
        ("cảm ơn", "en", "vi"),
        ("tomorrow", "vi", "en"),
        ("see you later", "vi", "en"),
        ("11/12 ạ", "en", "vi"),
        # no conversation language yet: English unless the message tells
        ("ok", None, "en"),
        ("ok", "fr", "en"),
        ("chào shop", None, "vi"),
    ],
)
def test_short_messages_keep_the_conversation_language(text, previous, expected):
    assert language.detect(text, previous) == expected


@pytest.mark.parametrize(
    "text",
    [
        "mai 3h chieu dc ko",
        "co ban the qua tang ko",
        "dat lich luc 3h chieuf",
        "ddatj lichj mai nhes",
        "da9t li5ch ma6y gio72",
        unicodedata.normalize("NFD", "đặt lịch massage chiều mai"),
        "Ä‘áº·t lá»‹ch massage",
        "cho em book slot massage tối nay nha",
        "e muon reschedule qua thu 6",
    ],
)
def test_unaccented_and_broken_vietnamese(text):
    assert language.detect(text, "en") == "vi"


@pytest.mark.parametrize(
    "text",
    [
        "can I book with Mai tomorrow at 3?",
        "we are near Bến Thành market, how far is the spa?",
        "I'd like a café latte while I wait, is that possible?",
        "hi, can u check my appt",
    ],
)
def test_english_with_vietnamese_names_or_accents(text):
    assert language.detect(text, "vi") == "en"


def test_repair():
    assert language.repair(unicodedata.normalize("NFD", "chiều")) == "chiều"
    assert language.repair("Ä‘áº·t lá»‹ch") == "đặt lịch"
    assert language.repair("  café  ") == "café"
    assert language.strip_marks("Đặt Lịch") == "dat lich"


def test_samples_cover_both_languages_from_the_training_data():
    counts = Counter(lang for lang, _ in language.load_samples())
    assert counts["en"] >= 1000 and counts["vi"] >= 500
