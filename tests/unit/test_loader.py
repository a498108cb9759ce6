"""The loader quarantines every row that breaches the ledger contract, naming file, row and column, and loads
the rest; a file it cannot read stops the load and changes nothing."""

import datetime as dt
import os

import duckdb
import pytest

from dagster_project.lib.loader import LedgerError, load_days
from tests.landing import write_day

DAY = dt.date(2025, 3, 4)
LOAN = {
    "loan_id": "L1", "borrower_id": "B1", "borrower_name": "Zhang San", "borrower_phone": "+86-139-1",
    "borrower_id_number": "110101", "asset_class": "car", "principal_amount": "1200.00", "interest_rate": "0.06",
    "origination_date": "2025-03-04", "maturity_date": "2026-03-10", "term_months": "12",
    "repayment_frequency": "monthly", "branch_id": "BR1", "guarantor_id": "", "collateral_type": "vehicle",
    "collateral_value": "1500", "monthly_income": "",
}
PAYMENT = {
    "payment_id": "P1", "loan_id": "L1", "value_date": "2025-03-04", "payment_type": "payment",
    "reverses_payment_id": "", "amount": "105.00", "principal_paid": "100.00", "interest_paid": "5.00",
    "penalty_paid": "0", "channel": "app",
}


def load(tmp_path, rows, days=(DAY,)):
    for day in days:
        write_day(tmp_path / "landing", day, rows if day == DAY else None)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        return load_days(con, tmp_path / "landing", list(days))


def raw_count(tmp_path, table="repayments"):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?", [table]
        ).fetchone()[0]
        return con.execute(f"select count(*) from raw.{table}").fetchone()[0] if exists else 0


def test_good_day_loads_and_reloading_gives_the_same_rows(tmp_path):
    loaded = load(tmp_path, {"loans": [LOAN], "repayments": [PAYMENT]})
    assert loaded.rows["loans"] == 1 and loaded.rows["repayments"] == 1 and loaded.report() == "no row quarantined"
    first = duckdb.connect(str(tmp_path / "w.duckdb")).execute(
        "select * exclude (_source_file) from raw.repayments").fetchall()
    load(tmp_path, {"loans": [LOAN], "repayments": [PAYMENT]})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        again = con.execute("select * exclude (_source_file) from raw.repayments").fetchall()
        assert con.execute("select count(*) from raw.landed_files where landing_date = ?", [DAY]).fetchone()[0] == 6
    assert again == first
    assert first[0][5] == pytest.approx(105)  # amount cast to DECIMAL(18,2)


@pytest.mark.parametrize(
    "ledger, row, column, expected",
    [
        ("repayments", {**PAYMENT, "amount": "12,5"}, "amount", "is not a valid DECIMAL(18,2)"),
        ("repayments", {**PAYMENT, "value_date": "2025-02-30"}, "value_date", "is not a valid DATE"),
        ("repayments", {**PAYMENT, "loan_id": ""}, "loan_id", "is empty but required"),
        ("repayments", {**PAYMENT, "payment_type": "refund"}, "payment_type", "is not one of payment, reversal"),
        ("repayments", {**PAYMENT, "principal_paid": "-1", "amount": "4.00"}, "principal_paid", "is below the minimum 0"),
        ("repayments", {**PAYMENT, "value_date": "2025-03-05"}, "value_date", "lies after the landing day"),
        ("loans", {**LOAN, "asset_class": "boat"}, "asset_class", "is not one of car"),
        ("loans", {**LOAN, "term_months": "twelve"}, "term_months", "is not a valid INTEGER"),
        ("loans", {**LOAN, "principal_amount": "0"}, "principal_amount", "is below the minimum 0.01"),
    ],
)
def test_bad_value_is_quarantined_with_file_row_column_and_reason(tmp_path, ledger, row, column, expected):
    good = {"loans": [LOAN], "repayments": [PAYMENT]}
    # the bad row is the second of its file, after a good one with another key
    key = "payment_id" if ledger == "repayments" else "loan_id"
    if ledger == "repayments" and row["loan_id"]:
        row = {**row, "loan_id": "L2"}  # another loan than the good row's, whose rows would be held with it
    rows = {**good, ledger: [{**good[ledger][0], key: "X0"}, row]}
    loaded = load(tmp_path, rows)
    assert loaded.quarantined[ledger] == 1 and loaded.rows[ledger] == 1
    problem = loaded.problems[0]
    assert problem.file.endswith(f"{DAY}/{ledger}.csv")
    assert (problem.row, problem.column) == (2, column) and expected in problem.message
    assert f"{ledger}.csv, row 2, column {column}" in loaded.report()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        quarantined = con.execute("select ledger, landing_date, source_row, column_name, reason, "
                                  "json_extract_string(row_values, '$." + key + "') from raw.quarantine "
                                  "where reason not like 'held back%'").fetchall()
        assert quarantined == [(ledger, DAY, 2, column, problem.message, row[key])]
        # the good row of the same file is loaded, the bad one only in quarantine
        assert con.execute(f"select {key} from raw.{ledger} where {key} = 'X0'").fetchall() == [("X0",)]


def test_duplicate_key_in_a_day_quarantines_both_rows(tmp_path):
    loaded = load(tmp_path, {"loans": [LOAN], "repayments": [PAYMENT, PAYMENT]})
    assert loaded.quarantined["repayments"] == 2 and loaded.rows["repayments"] == 0
    assert "duplicate key (payment_id) on the same day" in loaded.report()


def test_reloading_a_day_replaces_its_quarantine(tmp_path):
    load(tmp_path, {"loans": [LOAN], "repayments": [{**PAYMENT, "amount": "abc"}]})
    assert raw_count(tmp_path, "quarantine") == 2  # the payment, and its loan held back with it
    load(tmp_path, {"loans": [LOAN], "repayments": [PAYMENT]})  # the corrected file
    assert raw_count(tmp_path, "quarantine") == 0 and raw_count(tmp_path) == 1


def test_missing_file_is_named(tmp_path):
    write_day(tmp_path / "landing", DAY, {"loans": [LOAN]})
    os.remove(tmp_path / "landing" / str(DAY) / "write_offs.csv")
    with pytest.raises(LedgerError, match=r"2025-03-04/write_offs.parquet\|csv: file is missing"):
        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            load_days(con, tmp_path / "landing", [DAY])


def test_missing_column_is_named(tmp_path):
    folder = write_day(tmp_path / "landing", DAY, {"loans": [LOAN]})
    path = folder / "repayments.csv"
    path.write_text(path.read_text().replace(",channel", ""))
    with pytest.raises(LedgerError, match=r"repayments.csv, column channel: column is missing"):
        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            load_days(con, tmp_path / "landing", [DAY])


def test_unreadable_parquet_is_named(tmp_path):
    folder = write_day(tmp_path / "landing", DAY, {"loans": [LOAN]})
    (folder / "repayments.csv").unlink()
    (folder / "repayments.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(LedgerError, match=r"repayments.parquet.*unreadable Parquet"):
        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            load_days(con, tmp_path / "landing", [DAY])


def test_an_unreadable_file_in_a_range_loads_nothing_of_the_range(tmp_path):
    good_day = DAY - dt.timedelta(days=1)
    write_day(tmp_path / "landing", good_day, {"repayments": [{**PAYMENT, "value_date": str(good_day)}]})
    folder = write_day(tmp_path / "landing", DAY, {"loans": [LOAN]})
    (folder / "repayments.csv").write_text("payment_id,loan_id\nP9,L1\n")  # columns missing
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(LedgerError, match="column is missing"):
            load_days(con, tmp_path / "landing", [good_day, DAY])
    assert raw_count(tmp_path) == 0


def test_a_failed_reload_keeps_the_rows_loaded_before(tmp_path):
    load(tmp_path, {"loans": [LOAN], "repayments": [PAYMENT]})
    folder = tmp_path / "landing" / str(DAY)
    (folder / "repayments.csv").write_bytes(b"")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(LedgerError):
            load_days(con, tmp_path / "landing", [DAY])
    assert raw_count(tmp_path) == 1


def test_empty_csv_without_header_is_named(tmp_path):
    folder = write_day(tmp_path / "landing", DAY, {"loans": [LOAN]})
    (folder / "borrower_events.csv").write_bytes(b"")
    with pytest.raises(LedgerError, match=r"borrower_events.csv: empty file: no header row"):
        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            load_days(con, tmp_path / "landing", [DAY])
