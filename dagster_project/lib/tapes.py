"""Month-end status tapes: history older than the daily ledgers, loaded beside them.

A tape has one row per account and month end: the account's months (or days) past due,
balance and status. Roll rates and Pi read tapes through the same models as the book's own
month ends (int_loan_month_end_states). Each tape is a portfolio; loading one replaces it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from .loader import transaction

TAPE_DDL = """create table if not exists raw.month_end_tape (
  portfolio varchar not null, loan_id varchar not null, asset_class varchar not null, month_end date not null,
  months_past_due integer, days_past_due integer, status varchar not null, balance decimal(18,2) not null
)"""

# UCI "default of credit card clients": repayment status columns by month end (2005).
UCI_MONTHS = {
    "PAY_6": dt.date(2005, 4, 30), "PAY_5": dt.date(2005, 5, 31), "PAY_4": dt.date(2005, 6, 30),
    "PAY_3": dt.date(2005, 7, 31), "PAY_2": dt.date(2005, 8, 31), "PAY_0": dt.date(2005, 9, 30),
}
UCI_BILLS = {"PAY_6": "BILL_AMT6", "PAY_5": "BILL_AMT5", "PAY_4": "BILL_AMT4", "PAY_3": "BILL_AMT3",
             "PAY_2": "BILL_AMT2", "PAY_0": "BILL_AMT1"}
UCI_SHA256 = "61537758427df346bd48014953d99bc55f138b4f19dda4012a6238fa5214cf6d"


def uci_credit_card_tape(con: duckdb.DuckDBPyConnection, path: Path) -> pa.Table:
    """The UCI tape in tape layout: status -2, -1, 0 are current; k >= 1 is k months late."""
    months = " union all ".join(
        f"select cast(ID as varchar) as loan_id, date '{month_end}' as month_end, "
        f"cast(greatest({status}, 0) as integer) as months_past_due, "
        f"cast(greatest({UCI_BILLS[status]}, 0) as decimal(18,2)) as balance from tape"
        for status, month_end in UCI_MONTHS.items()
    )
    return con.execute(
        f"with tape as (select * from read_csv('{path}', header = true)) "
        "select 'uci_credit_card' as portfolio, loan_id, 'credit_card' as asset_class, month_end, months_past_due, "
        f"cast(null as integer) as days_past_due, 'active' as status, balance from ({months})"
    ).arrow().read_all()


def load_tape(con: duckdb.DuckDBPyConnection, tape: pa.Table) -> int:
    """Replace the tape's portfolio in raw.month_end_tape, in one transaction."""
    portfolios = set(tape.column("portfolio").to_pylist())
    con.execute("create schema if not exists raw")
    con.execute(TAPE_DDL)
    con.register("tape_rows", tape)
    try:
        with transaction(con):
            con.execute("delete from raw.month_end_tape where portfolio in (select unnest(?))", [sorted(portfolios)])
            con.execute("insert into raw.month_end_tape by name select * from tape_rows")
    finally:
        con.unregister("tape_rows")
    return tape.num_rows
