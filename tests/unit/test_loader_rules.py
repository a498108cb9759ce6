"""Inputs that used to be accepted wrongly, refused wrongly or refused for the wrong reason."""

import datetime as dt
import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.lib import loader
from dagster_project.lib.loader import LedgerError, WarehouseFull, load_days
from tests.landing import write_day
from tests.unit.test_loader import DAY, LOAN, PAYMENT, load

SCHEDULE = [{"loan_id": "L1", "installment_number": str(i), "due_date": f"{2025 + (2 + i) // 12}-{(2 + i) % 12 + 1:02d}-10",
             "principal_due": "100.00", "interest_due": "6.00"} for i in range(1, 13)]  # 1,200 like LOAN


def quarantine(tmp_path) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        return con.execute("select ledger, source_row, column_name, reason from raw.quarantine "
                           "order by ledger, source_row, column_name").fetchall()


def gate(tmp_path) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        return con.execute("select landing_date, gate, status from raw.landing_day_gate order by all").fetchall()


def test_a_good_day_passes_the_contract_gate(tmp_path):
    loaded = load(tmp_path, {"loans": [LOAN], "repayment_schedule": SCHEDULE, "repayments": [PAYMENT]})
    assert sum(loaded.quarantined.values()) == 0 and loaded.failed_days == []
    assert gate(tmp_path) == [(DAY, "contract", "passed")]


def test_amount_must_equal_its_parts(tmp_path):
    loaded = load(tmp_path, {"loans": [LOAN], "repayment_schedule": SCHEDULE,
                             "repayments": [{**PAYMENT, "amount": "1000000000000000.00"}]})
    assert ("repayments", 1, "amount", "value '1000000000000000.00' is not principal_paid + interest_paid + "
            "penalty_paid") in quarantine(tmp_path)
    assert loaded.rows["repayments"] == 0


def test_a_business_date_before_the_loans_origination_is_quarantined(tmp_path):
    load(tmp_path, {"loans": [LOAN], "repayment_schedule": SCHEDULE,
                    "repayments": [{**PAYMENT, "value_date": "1900-01-01"}]})  # the same day as its loan
    assert ("repayments", 1, "value_date", "value '1900-01-01' lies before the loan's origination") in quarantine(tmp_path)
    load(tmp_path, {"loans": [LOAN], "repayment_schedule": SCHEDULE})
    later = DAY + dt.timedelta(days=1)  # a day after its loan was loaded
    write_day(tmp_path / "landing", later, {"write_offs": [{"loan_id": "L1", "write_off_date": "2025-01-02",
                                                             "written_off_amount": "1200"}]})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load_days(con, tmp_path / "landing", [later])
    assert quarantine(tmp_path) == [
        ("write_offs", 1, "write_off_date", "value '2025-01-02' lies before the loan's origination")]


def test_a_schedule_that_does_not_repay_the_principal_goes_to_quarantine_with_its_loan(tmp_path):
    half = SCHEDULE[:6]  # repays 600 of 1,200
    loaded = load(tmp_path, {"loans": [LOAN], "repayment_schedule": half})
    assert loaded.rows["loans"] == 0 and loaded.rows["repayment_schedule"] == 0
    assert loaded.quarantined == {**loaded.quarantined, "loans": 1, "repayment_schedule": 6}
    rows = quarantine(tmp_path)
    assert ("loans", 1, "principal_amount", "value '1200.00' differs from the principal of its repayment schedule") in rows
    assert all(r[3].startswith("value '100.00' adds up over the schedule") for r in rows if r[0] == "repayment_schedule")
    assert loaded.failed_days == [DAY]


def test_a_day_without_its_completion_marker_is_refused_unless_asked(tmp_path):
    folder = write_day(tmp_path / "landing", DAY, {"loans": [LOAN], "repayment_schedule": SCHEDULE})
    (folder / "_SUCCESS").unlink()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(LedgerError, match=r"2025-03-04: day not complete: no _SUCCESS marker"):
            load_days(con, tmp_path / "landing", [DAY])
        assert load_days(con, tmp_path / "landing", [DAY], allow_incomplete=True).rows["loans"] == 1


def test_a_duplicate_key_holds_the_loans_rows_of_the_day_and_blocks_it(tmp_path):
    other = {**PAYMENT, "payment_id": "P2", "amount": "55.00", "principal_paid": "50.00"}
    loaded = load(tmp_path, {"loans": [LOAN], "repayment_schedule": SCHEDULE,
                             "repayments": [PAYMENT, {**PAYMENT, "amount": "205.00", "principal_paid": "200.00"}, other]})
    assert loaded.rows == {**loaded.rows, "loans": 0, "repayment_schedule": 0, "repayments": 0}
    assert loaded.held == {**loaded.held, "loans": 1, "repayment_schedule": 12, "repayments": 1}
    assert loaded.failed_days == [DAY] and gate(tmp_path) == [(DAY, "contract", "failed")]
    assert loaded.held_line() == ("rows held back with a quarantined row of the same loan and day: 1 loans, "
                                  "12 repayment_schedule, 1 repayments; aging blocked from 2025-03-04 until the day "
                                  "is delivered again or released")


def test_a_negative_installment_holds_the_whole_schedule(tmp_path):
    bad = [dict(row) for row in SCHEDULE]
    bad[4]["principal_due"] = "-100.00"
    loaded = load(tmp_path, {"loans": [LOAN], "repayment_schedule": bad})
    assert loaded.rows["repayment_schedule"] == 0 and loaded.quarantined["repayment_schedule"] == 12
    assert loaded.failed_days == [DAY]


def test_the_policy_can_age_the_day_without_the_held_rows(tmp_path, monkeypatch):
    monkeypatch.setitem(loader.dbt_vars(), "held_rows_policy", "age_without")
    loaded = load(tmp_path, {"loans": [LOAN], "repayment_schedule": SCHEDULE, "repayments": [PAYMENT, PAYMENT]})
    assert loaded.failed_days == [] and gate(tmp_path) == [(DAY, "contract", "passed")]
    assert "the day is aged without them" in loaded.report()


def test_collection_rows_are_quarantined_alone(tmp_path):
    action = {"action_id": "A1", "loan_id": "L1", "action_date": str(DAY), "action_type": "shout",
              "collector_id": "C1", "team_id": "T1", "outcome": "connected", "reached_borrower": "true",
              "promise_amount": "", "promise_date": ""}
    loaded = load(tmp_path, {"loans": [LOAN], "repayment_schedule": SCHEDULE, "collection_actions": [action]})
    assert loaded.quarantined["collection_actions"] == 1 and loaded.rows["loans"] == 1 and loaded.failed_days == []


def test_no_message_carries_a_personal_value(tmp_path):
    loaded = load(tmp_path, {"loans": [{**LOAN, "loan_id": "L9", "borrower_phone": "13912345678",
                                        "borrower_id_number": "110101199001011234", "asset_class": "boat"},
                                       {**LOAN, "loan_id": "L9", "borrower_phone": "13912345678"}]})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        stored = json.dumps(con.execute("select * from raw.quarantine").fetchall(), default=str)
    for text in (loaded.report(), stored, *map(str, loaded.problems)):
        assert "13912345678" not in text and "110101199001011234" not in text and "Zhang" not in text


def test_a_file_that_is_not_utf8_is_named_without_its_contents(tmp_path):
    folder = write_day(tmp_path / "landing", DAY, {"loans": [LOAN]})
    text = (folder / "loans.csv").read_text().replace("Zhang San", "Zhang San \u00e9")
    (folder / "loans.csv").write_bytes(text.encode("latin-1"))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(LedgerError) as error:
            load_days(con, tmp_path / "landing", [DAY])
    assert "loans.csv, row 1: not UTF-8 text (byte 0xe9" in str(error.value)
    assert "Zhang" not in str(error.value) and "+86" not in str(error.value)


def test_a_byte_order_mark_is_accepted(tmp_path):
    folder = write_day(tmp_path / "landing", DAY, {"loans": [LOAN], "repayments": [PAYMENT]})
    path = folder / "repayments.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert load_days(con, tmp_path / "landing", [DAY]).rows["repayments"] == 1


def test_quoted_newlines_in_a_file_over_a_megabyte_load(tmp_path):
    events = [{"event_id": f"E{i}", "loan_id": "L1", "borrower_id": "B1", "event_date": str(DAY),
               "event_type": "address_change", "detail": "moved\nto a new flat, " + "x" * 200} for i in range(6000)]
    folder = write_day(tmp_path / "landing", DAY, {"loans": [LOAN], "repayment_schedule": SCHEDULE,
                                                   "borrower_events": events})
    assert (folder / "borrower_events.csv").stat().st_size > 1_000_000
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert load_days(con, tmp_path / "landing", [DAY]).rows["borrower_events"] == 6000


def test_parquet_days_whose_column_is_all_empty_on_one_day_load_together(tmp_path):
    days = [DAY, DAY + dt.timedelta(days=1)]
    for day in days:
        write_day(tmp_path / "landing", day, {"loans": [LOAN], "repayment_schedule": SCHEDULE} if day == DAY else None)
    for day, reverses in zip(days, ([None], ["P1"]), strict=False):
        folder = tmp_path / "landing" / str(day)
        (folder / "repayments.csv").unlink()
        row = {**PAYMENT, "payment_id": f"P{day.day}", "value_date": str(day), "reverses_payment_id": reverses[0],
               "payment_type": "reversal" if reverses[0] else "payment"}
        columns = {k: [v or None] for k, v in row.items()}
        table = pa.table({k: pa.array(v, pa.null()) if v == [None] else pa.array(v) for k, v in columns.items()})
        pq.write_table(table, folder / "repayments.parquet")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert load_days(con, tmp_path / "landing", days).rows["repayments"] == 2


class FullDisk:
    """A connection whose disk fills up during the load: every statement after `begin` fails, and
    DuckDB has no transaction left to roll back."""

    def __init__(self, con):
        self.con, self.full = con, False

    def execute(self, sql, *args):
        if sql == "begin transaction":
            self.full = True
            return self.con.execute(sql, *args)
        if self.full and sql.startswith("insert"):
            self.con.execute("rollback")
            raise duckdb.IOException('Could not write file "w.duckdb": No space left on device')
        if self.full and sql == "rollback":
            raise duckdb.TransactionException("cannot rollback - no transaction is active")
        return self.con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.con, name)


def test_a_full_disk_is_said_and_changes_nothing(tmp_path):
    load(tmp_path, {"loans": [LOAN], "repayment_schedule": SCHEDULE, "repayments": [PAYMENT]})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(WarehouseFull, match="the disk under the warehouse is full"):
            load_days(FullDisk(con), tmp_path / "landing", [DAY])
        assert con.execute("select count(*) from raw.repayments").fetchone() == (1,)
