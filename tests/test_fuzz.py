"""Generated customers: what each expects is what the rules say, and through the real stack they get it."""

from __future__ import annotations

import time

import pytest

from core.business import business
from core.scheduling import check_start
from tests.fuzz.customers import EN_CLASSES, VI_CLASSES, generate
from tests.fuzz.driver import run_all

SEED = 20261201
COUNT = 25  # every English class at least once, in a few minutes
TIME_LIMIT_S = 900


@pytest.mark.parametrize("language", ["en", "vi"])
def test_each_generated_customer_expects_what_the_rules_say(language):
    biz = business()
    classes = EN_CLASSES if language == "en" else VI_CLASSES
    customers = generate(SEED, 4 * len(classes), language)
    assert {c.klass for c in customers} == set(EN_CLASSES if language == "en" else VI_CLASSES)
    for c in customers:
        expect = c.expect
        if expect.refusal:
            assert expect.start is None and expect.refusal.startswith(("utter_refusal_", "utter_when_")), c
        elif not expect.pick:
            assert check_start(biz, expect.service, expect.start, biz.now()) is None, c
            if c.correction:
                assert check_start(biz, expect.service, c.correction[2], biz.now()) is None, c
        if expect.staff:
            assert expect.staff in biz.staff_for(expect.service), c
        for staff, start in c.blockers:
            assert staff in biz.staff_for(expect.service) and biz.works_on(staff, start.date()), c
            assert check_start(biz, expect.service, start, biz.now()) is None, c
    # the same seed, the same customers
    assert [c.opening for c in generate(SEED, 10, language)] == [c.opening for c in customers[:10]]


@pytest.mark.e2e
def test_generated_english_customers_get_exactly_what_they_asked_for(stack, clean_db):
    started = time.perf_counter()
    results = run_all(stack["rasa_url"], generate(SEED, COUNT, "en"))
    failed = [r for r in results if not r.ok]
    assert not failed, f"{len(failed)} of {len(results)} failed:\n\n" + "\n\n".join(r.story() for r in failed)
    assert time.perf_counter() - started < TIME_LIMIT_S
