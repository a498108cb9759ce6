"""Month-end tapes and source mappings: the contract's rules, the quarantine, replacing a portfolio."""

import csv
import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.contract import LEDGERS, MONTH_END_TAPE
from dagster_project.lib.loader import LedgerError, load_days
from dagster_project.lib.mapping import MappingError, read_mapping
from dagster_project.lib.settings import UCI_MAPPING, UCI_TAPE
from dagster_project.lib.tapes import load_tape, tape_mapping
from tests.landing import D, loan, pay, write_day

HEADER = ["portfolio", "loan_id", "asset_class", "month_end", "months_past_due", "days_past_due", "status", "balance"]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def tape_rows(con, portfolio=None):
    where = f"where portfolio = '{portfolio}'" if portfolio else ""
    return con.execute(f"select {', '.join(HEADER)} from raw.month_end_tape {where} order by all").fetchall()


def quarantined(con):
    return con.execute("select source_row, column_name, reason from raw.quarantine "
                       "where ledger = 'month_end_tape' order by all").fetchall()


GOOD = [
    ["p1", "A", "card", "2025-01-31", 0, "", "active", "100.00"],
    ["p1", "A", "card", "2025-02-28", 1, "", "active", "90.00"],
    ["p1", "A", "card", "2025-03-31", "", "", "paid_off", "0"],
    ["p1", "B", "card", "2025-01-31", "", 45, "restructured", ""],
]


@pytest.mark.skipif(not UCI_TAPE.exists(), reason="needs ../shared/data/uci_credit_card")
def test_uci_tape_through_its_mapping_equals_an_independent_reading():
    """The mapping replaces the hand-written UCI reader: same rows. Read here with the csv module: PAY_k
    below 0 is current, a negative bill owes nothing."""
    months = {"PAY_6": ("2005-04-30", "BILL_AMT6"), "PAY_5": ("2005-05-31", "BILL_AMT5"),
              "PAY_4": ("2005-06-30", "BILL_AMT4"), "PAY_3": ("2005-07-31", "BILL_AMT3"),
              "PAY_2": ("2005-08-31", "BILL_AMT2"), "PAY_0": ("2005-09-30", "BILL_AMT1")}
    expected = []
    with open(UCI_TAPE, newline="") as f:
        for row in csv.DictReader(f):
            for status, (month_end, bill) in months.items():
                expected.append(("uci_credit_card", row["ID"], "credit_card", dt.date.fromisoformat(month_end),
                                 max(int(row[status]), 0), None, "active", max(float(row[bill]), 0.0)))
    with duckdb.connect() as con:
        loaded = load_tape(con, UCI_TAPE, tape_mapping(UCI_MAPPING, None))
        got = [(*r[:7], float(r[7])) for r in tape_rows(con)]
    assert loaded.rows == len(expected) == 180_000 and loaded.quarantined == 0
    assert sorted(got) == sorted(expected)


def test_bad_rows_are_quarantined_with_file_row_column_and_reason(tmp_path):
    path = write_csv(tmp_path / "p1.csv", HEADER, GOOD + [
        ["p1", "C", "card", "2025-01-31", 0, "", "gone", "1"],          # 5: unknown status
        ["p1", "C", "card", "2025-02-15", 0, "", "active", "1"],        # 6: not a month end
        ["p1", "C", "card", "2025-03-31", 0, "", "active", "-5"],       # 7: negative balance
        ["p1", "C", "card", "2025-04-30", "", "", "active", "1"],       # 8: no months or days past due
        ["p1", "D", "card", "2025-01-31", 0, "", "active", "1"],        # 9, 10: duplicate key
        ["p1", "D", "card", "2025-01-31", 1, "", "active", "1"],
        ["p1", "E", "card", "2025-01-31", "x", "", "active", "1"],      # 11: not an integer
    ])
    with duckdb.connect() as con:
        loaded = load_tape(con, path, tape_mapping(None, None))
        assert loaded.rows == 4 and loaded.quarantined == 7
        reasons = quarantined(con)
        assert con.execute("select distinct source_file from raw.quarantine").fetchall() == [(str(path),)]
    assert (5, "status", "value 'gone' is not one of active, restructured, paid_off, written_off") in reasons
    assert (6, "month_end", "value '2025-02-15' is not the last day of its month") in reasons
    assert (7, "balance", "value '-5' is below the minimum 0") in reasons
    assert (8, "months_past_due", "is empty and so is days_past_due: an open account needs one of them") in reasons
    assert {r[:2] for r in reasons if "duplicate key" in r[2]} == {(9, "portfolio, loan_id, month_end"),
                                                                  (10, "portfolio, loan_id, month_end")}
    assert (11, "months_past_due", "value 'x' is not a valid INTEGER") in reasons


def test_loading_a_portfolio_again_replaces_it_and_leaves_the_others(tmp_path):
    first = write_csv(tmp_path / "p1.csv", HEADER, GOOD)
    other = write_csv(tmp_path / "p2.csv", HEADER, [["p2", "Z", "car", "2025-01-31", 0, "", "active", "5"]])
    smaller = write_csv(tmp_path / "p1_again.csv", HEADER, GOOD[:2])
    with duckdb.connect() as con:
        load_tape(con, first, tape_mapping(None, None))
        load_tape(con, other, tape_mapping(None, None))
        load_tape(con, first, tape_mapping(None, None))
        assert len(tape_rows(con, "p1")) == 4  # twice: the same rows
        load_tape(con, smaller, tape_mapping(None, "p1"))
        assert len(tape_rows(con, "p1")) == 2 and len(tape_rows(con, "p2")) == 1


def test_a_tape_whose_rows_all_fail_changes_nothing(tmp_path):
    good = write_csv(tmp_path / "p1.csv", HEADER, GOOD)
    bad = write_csv(tmp_path / "p1_bad.csv", HEADER, [["p1", "A", "card", "2025-01-15", 0, "", "active", "1"]])
    with duckdb.connect() as con:
        load_tape(con, good, tape_mapping(None, None))
        before = tape_rows(con)
        with pytest.raises(LedgerError, match=r"p1_bad.csv, row 1, column month_end: value '2025-01-15' is not the "
                                              r"last day of its month"):
            load_tape(con, bad, tape_mapping(None, None))
        assert tape_rows(con) == before


def test_a_foreign_layout_through_a_mapping_gives_the_contracts_rows(tmp_path):
    """Renamed columns, status letters, a month index anchored to a date, a constant asset class; the
    balance left out (optional)."""
    mapping = tmp_path / "bank.yaml"
    mapping.write_text(
        "contract: month_end_tape\n"
        "constants: {portfolio: p1, asset_class: card}\n"
        "columns: {loan_id: ACCT, months_past_due: MPD, days_past_due: DPD, status: ST}\n"
        "codes: {status: {A: active, P: paid_off, R: restructured}}\n"
        "month_index: {column: M, anchor: 2025-03-31}\n")
    foreign = write_csv(tmp_path / "bank.csv", ["ACCT", "M", "MPD", "DPD", "ST"], [
        ["A", -2, 0, "", "A"], ["A", -1, 1, "", "A"], ["A", 0, "", "", "P"], ["B", -2, "", 45, "R"]])
    contract = write_csv(tmp_path / "p1.csv", HEADER[:-1], [row[:-1] for row in GOOD])
    with duckdb.connect() as con:
        load_tape(con, contract, tape_mapping(None, None))
        expected = tape_rows(con)
        loaded = load_tape(con, foreign, tape_mapping(mapping, None))
        assert loaded.rows == 4 and tape_rows(con) == expected
        assert all(balance is None for *_, balance in expected)


def test_gaps_in_an_accounts_months_are_counted(tmp_path):
    path = write_csv(tmp_path / "p1.csv", HEADER, [
        ["p1", "A", "card", "2025-01-31", 0, "", "active", "1"], ["p1", "A", "card", "2025-04-30", 0, "", "active", "1"],
        ["p1", "B", "card", "2025-01-31", 0, "", "active", "1"], ["p1", "B", "card", "2025-02-28", 0, "", "active", "1"]])
    with duckdb.connect() as con:
        loaded = load_tape(con, path, tape_mapping(None, None))
    assert (loaded.accounts, loaded.accounts_with_gaps, loaded.missing_month_ends) == (2, 1, 2)


@pytest.mark.parametrize("text, key, reason", [
    ("contract: month_end_tape\ncolour: blue\n", "colour", "unknown key"),
    ("contract: ledger_of_dreams\n", "contract", "is not one of"),
    ("contract: month_end_tape\ncolumns: {account: ID}\n", "columns.account", "not a column of month_end_tape"),
    ("contract: month_end_tape\ncolumns: {loan_id: ID}\nconstants: {loan_id: x}\n", "constants.loan_id",
     "also mapped under columns"),
    ("contract: month_end_tape\nmonth_index: {column: M, anchor: someday}\n", "month_index.anchor", "is not a date"),
    ("contract: month_end_tape\nfloor: {balance: low}\n", "floor.balance", "is not a number"),
    ("contract: loans\nmonth_index: {column: M, anchor: 2025-01-31}\n", "month_index", "only for a contract with"),
    ("- just\n- a list\n", "(file)", "must be a YAML mapping"),
])
def test_a_bad_mapping_is_refused_with_file_key_and_reason(tmp_path, text, key, reason):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(MappingError, match=rf"bad.yaml: {re.escape(key)}: .*{reason}"):
        read_mapping(path, {**LEDGERS, MONTH_END_TAPE.name: MONTH_END_TAPE})


def test_a_mapped_column_missing_from_the_source_is_refused_and_nothing_changes(tmp_path):
    good = write_csv(tmp_path / "p1.csv", HEADER, GOOD)
    mapping = tmp_path / "bank.yaml"
    mapping.write_text("contract: month_end_tape\ncolumns: {loan_id: ACCOUNT_NO}\n")
    with duckdb.connect() as con:
        load_tape(con, good, tape_mapping(None, None))
        before = tape_rows(con)
        with pytest.raises(MappingError, match=r"bank.yaml: columns.loan_id: column ACCOUNT_NO is not in .*p1.csv"):
            load_tape(con, good, tape_mapping(mapping, None))
        assert tape_rows(con) == before


def test_a_ledger_exported_in_its_own_layout_loads_through_a_mapping(tmp_path):
    """A core system that calls loan_id LOAN_NO and codes reversals R: the same raw rows as the contract's
    own files."""
    day = D("2025-01-10")
    rows = {"loans": [r for ledger, r in loan("L1", "2025-01-01", ["2025-02-05"]) if ledger == "loans"],
            "repayment_schedule": [r for ledger, r in loan("L1", "2025-01-01", ["2025-02-05"])
                                   if ledger == "repayment_schedule"],
            "repayments": [pay("P1", "L1", "2025-01-10", 10, 1)[1],
                           pay("P2", "L1", "2025-01-10", 10, 1, kind="reversal", reverses="P1")[1]]}
    contract_landing, foreign_landing = tmp_path / "contract", tmp_path / "foreign"
    write_day(contract_landing, day, rows)
    write_day(foreign_landing, day, rows)
    repayments = foreign_landing / day.isoformat() / "repayments.csv"
    text = repayments.read_text().replace("loan_id", "LOAN_NO").replace(",reversal,", ",R,").replace(",payment,", ",N,")
    repayments.write_text(text)
    (foreign_landing / "_mappings").mkdir()
    (foreign_landing / "_mappings" / "repayments.yaml").write_text(
        "contract: repayments\ncolumns: {loan_id: LOAN_NO}\ncodes: {payment_type: {N: payment, R: reversal}}\n")
    loaded = {}
    for landing in (contract_landing, foreign_landing):
        with duckdb.connect() as con:
            load_days(con, landing, [day])
            loaded[landing] = con.execute(
                "select * exclude (_source_file) from raw.repayments order by payment_id").fetchall()
            assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
    assert len(loaded[contract_landing]) == 2 and loaded[foreign_landing] == loaded[contract_landing]
    shutil.rmtree(tmp_path)


def test_the_tape_contract_doc_names_every_column():
    doc = (Path(__file__).parents[2] / "docs" / "tape_contract.md").read_text()
    assert all(f"| {c.name}" in doc for c in MONTH_END_TAPE.columns)
