"""The business file: loaded, validated with errors that name the field, and asked questions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from core.business import BusinessConfigError, business, load_business

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "business.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def demo() -> dict:
    return yaml.safe_load((ROOT / "data" / "business.yml").read_text())


def test_demo_business_facts():
    biz = business()
    assert biz.name == "Lotus Spa & Wellness"
    assert biz.identity.timezone == "Asia/Ho_Chi_Minh"
    assert {s: (v.duration_minutes, int(v.price)) for s, v in biz.services.items()} == {
        "Swedish Massage": (60, 45),
        "Hot Stone Massage": (90, 70),
        "Foot Reflexology": (30, 18),
        "Classic Facial": (60, 40),
        "Manicure": (30, 15),
        "Pedicure": (45, 20),
        "Haircut & Styling": (45, 25),
    }
    assert biz.staff_for("Hot Stone Massage") == ["Mai"]
    assert biz.hours_lines() == ["Monday - Friday: 09:00 - 20:00", "Saturday: 09:00 - 18:00", "Sunday: closed"]


@pytest.mark.parametrize(
    ("words", "service"),
    [
        ("massage", "Swedish Massage"),
        ("a relaxing massage please", "Swedish Massage"),
        ("hot stones", "Hot Stone Massage"),
        ("stone massage", "Hot Stone Massage"),
        ("foot massage", "Foot Reflexology"),
        ("Facial", "Classic Facial"),
        ("nails", "Manicure"),
        ("mani", "Manicure"),
        ("pedi", "Pedicure"),
        ("a trim", "Haircut & Styling"),
        ("blow dry", "Haircut & Styling"),
        ("HAIRCUT & STYLING", "Haircut & Styling"),
        ("tattoo", None),
        ("", None),
    ],
)
def test_customer_words_become_catalogue_names(words, service):
    assert business().match_service(words) == service


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 12, 7), ("09:00", "20:00")),  # Monday
        (date(2026, 12, 5), ("09:00", "18:00")),  # Saturday
        (date(2026, 12, 6), None),  # Sunday
        (date(2027, 1, 1), None),  # New Year's Day
        (date(2027, 2, 8), None),  # Tet 2027
        (date(2026, 9, 2), None),  # National Day
    ],
)
def test_opening_hours_and_closures(day, hours):
    got = business().hours_on(day)
    assert (None if got is None else (f"{got[0]:%H:%M}", f"{got[1]:%H:%M}")) == hours


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c["business"].update(timezone="Mars/Olympus"), "business.timezone"),
        (lambda c: c["services"][0].update(staff=["Nobody"]), "services.0.staff"),
        (lambda c: c["services"][1].update(duration_minutes=0), "services.1.duration_minutes"),
        (lambda c: c["opening_hours"].update(monday=["20:00", "09:00"]), "opening_hours"),
        (lambda c: c["staff"][0].update(days=["funday"]), "staff.0.days"),
        (lambda c: c.pop("services"), "services"),
        (lambda c: c["booking_rules"].update(max_days_ahead="soon"), "booking_rules.max_days_ahead"),
    ],
)
def test_invalid_business_file_names_the_field(tmp_path, change, field):
    config = demo()
    change(config)
    with pytest.raises(BusinessConfigError) as err:
        load_business(write(tmp_path, config))
    assert field in str(err.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(BusinessConfigError, match="not found"):
        load_business(tmp_path / "nope.yml")
    (tmp_path / "bad.yml").write_text("business: [unclosed")
    with pytest.raises(BusinessConfigError, match="not valid YAML"):
        load_business(tmp_path / "bad.yml")


def test_nlu_synonyms_agree_with_the_business_file():
    """The NLU maps customer words to the same catalogue names the actions use."""
    nlu = yaml.safe_load((ROOT / "data" / "nlu" / "synonyms.yml").read_text())
    biz = business()
    for item in nlu["nlu"]:
        if "synonym" in item and item["synonym"] in biz.services:
            for line in item["examples"].splitlines():
                words = line.strip().removeprefix("- ").strip()
                if words:
                    assert biz.match_service(words) == item["synonym"], words


def test_an_alias_cut_off_by_a_longer_word_yields_to_it():
    # "làm mát-xa" written without diacritics is "lam mat xa": a massage, not "làm mặt" (a facial)
    assert business().services_mentioned("em muon lam mat xa 1 gio ruoi chieu ngay 12/12") == ["Swedish Massage"]
    assert business().services_mentioned("cho em lam mat thu 6") == ["Classic Facial"]
