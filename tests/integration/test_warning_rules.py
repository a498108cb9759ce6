"""Every early-warning rule of the seed catalogue, made to fire on one hand-built loan and to stay
silent on another that comes just short of it, through the whole pipeline."""

import csv

import pytest

from dagster_project.lib.contract import BORROWER_EVENT_TYPES
from dagster_project.lib.settings import DBT_DIR
from dagster_project.pipeline import run_pipeline
from tests.conftest import query, warehouse_at
from tests.landing import D, action, event, loan, pay, write_book

FIRST, LAST = D("2024-01-01"), D("2024-06-30")
DUE = ["2024-02-10", "2024-03-10", "2024-04-10", "2024-05-10", "2024-06-10"]


def on_time(loan_id, *dates):
    return [pay(f"{loan_id}-{i}", loan_id, day, 90, 10) for i, day in enumerate(dates)]


def promise(action_id, loan_id, day, by, amount=100):
    return action(action_id, loan_id, day, "call", "connected", reached=True, promise=(amount, by))


RULES = {r["event_type"]: r["rule_id"] for r in csv.DictReader(open(DBT_DIR / "seeds" / "warning_rules.csv"))}
EVENT_RULES = [(RULES[t], t) for t in BORROWER_EVENT_TYPES if t in RULES and t != "bank_account_change"]

# rule -> (loan that fires it, the days it fires, loan that comes short of it)
CASES = {
    # installments 1-3 paid on the due date, the 4th not: 15 days late on 25 May, the 5th on 25 June
    "WS01": ("SLOW", {"2024-05-25", "2024-06-25"}, "SLOW_BUT_UNDER"),  # the other pays the 4th 10 days late
    "WS02": ("BROKEN_TWICE", {"2024-04-06"}, "BROKEN_APART"),  # broken, broken / broken, partial, broken
    "WS03": ("UNREACHABLE", {"2024-03-03"}, "REACHED_BETWEEN"),  # 3 unanswered calls / 2, connected, 1
    "WS04": ("LETTER_IGNORED", {"2024-03-15"}, "LETTER_ANSWERED"),  # no answer in 14 days / paid on day 9
    "WS05": ("BANK_TWICE", {"2024-03-01"}, "BANK_APART"),  # 2 changes within 90 days / 106 days apart
}
# one event of each other type: fires its rule; the loan with the next type's event must not
for i, (rule_id, event_type) in enumerate(EVENT_RULES):
    CASES[rule_id] = (f"EVENT_{event_type}", {"2024-03-03"}, f"EVENT_{EVENT_RULES[(i + 1) % len(EVENT_RULES)][1]}")

BOOK = [
    *loan("SLOW", "2024-01-10", DUE), *on_time("SLOW", *DUE[:3]),
    *loan("SLOW_BUT_UNDER", "2024-01-10", DUE), *on_time("SLOW_BUT_UNDER", *DUE[:3], "2024-05-20", DUE[4]),
    *loan("BROKEN_TWICE", "2024-01-10", DUE),
    promise("BT1", "BROKEN_TWICE", "2024-03-01", "2024-03-05"), promise("BT2", "BROKEN_TWICE", "2024-04-01", "2024-04-05"),
    *loan("BROKEN_APART", "2024-01-10", DUE),
    promise("BA1", "BROKEN_APART", "2024-03-01", "2024-03-05"), promise("BA2", "BROKEN_APART", "2024-04-01", "2024-04-05"),
    pay("BA-P", "BROKEN_APART", "2024-04-03", 45, 5), promise("BA3", "BROKEN_APART", "2024-05-01", "2024-05-05"),
    *loan("UNREACHABLE", "2024-01-10", DUE),
    *(action(f"U{i}", "UNREACHABLE", f"2024-03-0{i}") for i in (1, 2, 3)),
    *loan("REACHED_BETWEEN", "2024-01-10", DUE),
    action("R1", "REACHED_BETWEEN", "2024-03-01"), action("R2", "REACHED_BETWEEN", "2024-03-02"),
    action("R3", "REACHED_BETWEEN", "2024-03-03", "call", "connected"), action("R4", "REACHED_BETWEEN", "2024-03-04"),
    *loan("LETTER_IGNORED", "2024-01-10", DUE), action("LI", "LETTER_IGNORED", "2024-03-01", "letter"),
    *loan("LETTER_ANSWERED", "2024-01-10", DUE), action("LA", "LETTER_ANSWERED", "2024-03-01", "letter"),
    pay("LA-P", "LETTER_ANSWERED", "2024-03-10", 90, 10),
    *loan("BANK_TWICE", "2024-01-10", DUE),
    event("BT-E1", "BANK_TWICE", "2024-02-01", "bank_account_change"),
    event("BT-E2", "BANK_TWICE", "2024-03-01", "bank_account_change"),
    *loan("BANK_APART", "2024-01-10", DUE),
    event("BA-E1", "BANK_APART", "2024-01-10", "bank_account_change"),
    event("BA-E2", "BANK_APART", "2024-04-25", "bank_account_change"),
]
for _, event_type in EVENT_RULES:
    BOOK += [*loan(f"EVENT_{event_type}", "2024-01-10", DUE), event(f"E-{event_type}", f"EVENT_{event_type}",
                                                                    "2024-03-03", event_type)]


@pytest.fixture(scope="module")
def signals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warning_rules")
    with warehouse_at(folder):
        write_book(folder / "landing", FIRST, LAST, BOOK)
        run_pipeline(FIRST, LAST)
    hits = {}
    for rule_id, loan_id, day in query(folder, "select rule_id, loan_id, signal_date from marts.fct_warning_signals"):
        hits.setdefault((rule_id, loan_id), set()).add(day.isoformat())
    return hits


def test_every_rule_of_the_catalogue_has_a_case():
    with open(DBT_DIR / "seeds" / "warning_rules.csv") as f:
        assert {row["rule_id"] for row in csv.DictReader(f)} == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires(signals, rule_id):
    loan_id, days, _ = CASES[rule_id]
    assert signals.get((rule_id, loan_id)) == days


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_stays_silent(signals, rule_id):
    _, _, loan_id = CASES[rule_id]
    assert (rule_id, loan_id) not in signals
