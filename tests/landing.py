"""Hand-built landing folders for tests: rows as dicts, every ledger present every day."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from dagster_project.lib.contract import LEDGERS


def write_day(landing: Path, day: dt.date, rows: dict[str, list[dict]] | None = None) -> Path:
    """Write <landing>/<day>/<ledger>.csv for every ledger (header only where no rows)."""
    folder = Path(landing) / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for name, ledger in LEDGERS.items():
        with open(folder / f"{name}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=ledger.column_names)
            writer.writeheader()
            for row in (rows or {}).get(name, []):
                writer.writerow({k: _text(v) for k, v in row.items()})
    (folder / "_SUCCESS").touch()
    return folder


def write_book(landing: Path, first: dt.date, last: dt.date, rows: list[tuple[str, dict]]) -> None:
    """rows: (ledger, row); each lands on the day of its business date (schedules with their loan)."""
    by_day: dict[dt.date, dict[str, list[dict]]] = {}
    origination = {r["loan_id"]: r["origination_date"] for ledger, r in rows if ledger == "loans"}
    for ledger, row in rows:
        date_column = LEDGERS[ledger].date_column
        day = row[date_column] if date_column else origination[row["loan_id"]]
        by_day.setdefault(day, {}).setdefault(ledger, []).append(row)
    day = first
    while day <= last:
        write_day(landing, day, by_day.get(day))
        day += dt.timedelta(days=1)


D = dt.date.fromisoformat


def loan(loan_id, origination, due_dates, principal=None, monthly_income=None):
    """A consumer loan with installments of 90 principal + 10 interest on the given due dates."""
    principal = principal or 90 * len(due_dates)
    rows = [("loans", {
        "loan_id": loan_id, "borrower_id": "B" + loan_id, "borrower_name": None, "borrower_phone": None,
        "borrower_id_number": None, "asset_class": "consumer", "principal_amount": principal,
        "interest_rate": "0.1", "origination_date": D(origination), "maturity_date": D(due_dates[-1]),
        "term_months": len(due_dates), "repayment_frequency": "monthly", "branch_id": "BR1",
        "guarantor_id": None, "collateral_type": "none", "collateral_value": None, "monthly_income": monthly_income,
    })]
    rows += [("repayment_schedule", {"loan_id": loan_id, "installment_number": i, "due_date": D(due),
                                     "principal_due": "90.00", "interest_due": "10.00"})
             for i, due in enumerate(due_dates, start=1)]
    return rows


def pay(payment_id, loan_id, day, principal, interest, kind="payment", reverses=None):
    return ("repayments", {
        "payment_id": payment_id, "loan_id": loan_id, "value_date": D(day), "payment_type": kind,
        "reverses_payment_id": reverses, "amount": principal + interest, "principal_paid": principal,
        "interest_paid": interest, "penalty_paid": 0, "channel": "app"})


def action(action_id, loan_id, day, action_type="call", outcome=None, reached=False, promise=None,
           collector="C1"):
    """A collection action; promise = (amount, promise date). Outcome defaults to delivered, or no_answer for calls."""
    outcome = outcome or ("no_answer" if action_type == "call" else "delivered")
    amount, by = promise or (None, None)
    return ("collection_actions", {
        "action_id": action_id, "loan_id": loan_id, "action_date": D(day), "action_type": action_type,
        "collector_id": collector, "team_id": "T1", "outcome": outcome, "reached_borrower": reached,
        "promise_amount": amount, "promise_date": D(by) if by else None})


def event(event_id, loan_id, day, event_type):
    return ("borrower_events", {"event_id": event_id, "loan_id": loan_id, "borrower_id": "B" + loan_id,
                                "event_date": D(day), "event_type": event_type, "detail": None})


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
