"""An independent, plain-Python aging of a book, to check the dbt snapshot row by row.

Written from the domain definitions, not from the SQL: it walks every loan day by day,
keeping a list of installments and the payments seen so far.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

TOLERANCE = Decimal("0.005")


def bucket_of(dpd: int, buckets: list[tuple[str, int, int | None]]) -> str:
    for name, low, high in buckets:
        if dpd >= low and (high is None or dpd <= high):
            return name
    raise ValueError(dpd)


def age_book(loans, schedules, repayments, write_offs, first: dt.date, last: dt.date, buckets) -> dict:
    """{(loan_id, as_of_date): row dict} for every loan-day the snapshot should hold."""
    installments = defaultdict(list)
    for s in schedules:
        installments[s["loan_id"]].append(s)
    payments = defaultdict(list)
    for p in repayments:
        payments[p["loan_id"]].append(p)
    written_off = {w["loan_id"]: w for w in write_offs}
    result = {}
    for loan in loans:
        loan_id = loan["loan_id"]
        schedule = sorted(installments[loan_id], key=lambda s: s["installment_number"])
        wo = written_off.get(loan_id)
        day = max(loan["origination_date"], first)
        while day <= last:
            sign = {"payment": 1, "reversal": -1}
            before_wo = [p for p in payments[loan_id] if p["value_date"] <= day
                         and not (wo and p["value_date"] >= wo["write_off_date"])]
            principal_paid = sum((sign[p["payment_type"]] * p["principal_paid"] for p in before_wo), Decimal(0))
            interest_paid = sum((sign[p["payment_type"]] * p["interest_paid"] for p in before_wo), Decimal(0))
            recovered = sum((sign[p["payment_type"]] * p["amount"] for p in payments[loan_id]
                             if wo and wo["write_off_date"] <= p["value_date"] <= day), Decimal(0))
            due = [s for s in schedule if s["due_date"] < day]
            last_payment = max((p["value_date"] for p in before_wo), default=None)
            if wo and wo["write_off_date"] <= day:
                status = "written_off"
            elif last_payment and _nothing_owed(loan, schedule, before_wo, last_payment):
                status = "paid_off"
            else:
                status = "active"
            last_change = max([p["value_date"] for p in before_wo]
                              + ([wo["write_off_date"]] if wo and wo["write_off_date"] <= day else []), default=None)
            closed_on = last_change if status != "active" else None
            if closed_on and (day.year, day.month) != (closed_on.year, closed_on.month):
                # a closed loan leaves the snapshot after its closing month, and comes back if it reopens
                day += dt.timedelta(days=1)
                continue
            if status == "active":
                # settle the oldest installments first with everything paid
                remaining = principal_paid + interest_paid
                oldest_unpaid = None
                for s in schedule:
                    amount = s["principal_due"] + s["interest_due"]
                    if remaining + TOLERANCE >= amount:
                        remaining -= amount
                    else:
                        oldest_unpaid = s["due_date"]
                        break
                dpd = (day - oldest_unpaid).days if oldest_unpaid and oldest_unpaid < day else 0
                bucket = bucket_of(dpd, buckets)
                outstanding = loan["principal_amount"] - principal_paid
                overdue_principal = max(sum((s["principal_due"] for s in due), Decimal(0)) - principal_paid, 0)
                overdue_interest = max(sum((s["interest_due"] for s in due), Decimal(0)) - interest_paid, 0)
            else:
                dpd, bucket, outstanding, overdue_principal, overdue_interest = None, None, 0, 0, 0
            result[(loan_id, day)] = {
                "status": status, "days_past_due": dpd, "bucket": bucket,
                "outstanding_principal": Decimal(outstanding), "overdue_principal": Decimal(overdue_principal),
                "overdue_interest": Decimal(overdue_interest), "cumulative_recovered": recovered,
                "closed_on": closed_on,
            }
            day += dt.timedelta(days=1)
    return result


def _nothing_owed(loan, schedule, payments, on: dt.date) -> bool:
    """After the payments up to `on`: all principal paid, and the interest of every installment due
    before `on` (a prepayment waives the interest of installments not yet due)."""
    sign = {"payment": 1, "reversal": -1}
    paid = [p for p in payments if p["value_date"] <= on]
    principal_paid = sum((sign[p["payment_type"]] * p["principal_paid"] for p in paid), Decimal(0))
    interest_paid = sum((sign[p["payment_type"]] * p["interest_paid"] for p in paid), Decimal(0))
    interest_due = sum((s["interest_due"] for s in schedule if s["due_date"] < on), Decimal(0))
    return principal_paid >= loan["principal_amount"] - TOLERANCE and interest_paid >= interest_due - TOLERANCE
