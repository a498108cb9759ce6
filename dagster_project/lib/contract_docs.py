"""Render the contracts as docs/ledger_contract.md, docs/tape_contract.md and the dbt sources file.

The files are generated (`lending contract-docs`) and a test checks they are up to date, so
each contract has one definition: lib/contract.py.
"""

import json
from pathlib import Path

from .contract import LEDGERS, MONTH_END_TAPE, Ledger
from .mapping import __doc__ as MAPPING_DOC

REPO = Path(__file__).resolve().parents[2]
MARKDOWN_PATH = REPO / "docs" / "ledger_contract.md"
TAPE_MARKDOWN_PATH = REPO / "docs" / "tape_contract.md"
SOURCES_PATH = REPO / "dbt" / "models" / "staging" / "core_lending" / "_core_lending__sources.yml"

INTRO = """# Ledger contract

<!-- Generated from dagster_project/lib/contract.py by `lending contract-docs`; edit that file. -->

A lender's core system delivers one folder per business day and one file per
ledger in it:

    <landing>/<YYYY-MM-DD>/loans.parquet            (or loans.csv)
    <landing>/<YYYY-MM-DD>/repayment_schedule.parquet
    <landing>/<YYYY-MM-DD>/repayments.parquet
    <landing>/<YYYY-MM-DD>/collection_actions.parquet
    <landing>/<YYYY-MM-DD>/borrower_events.parquet
    <landing>/<YYYY-MM-DD>/write_offs.parquet
    <landing>/<YYYY-MM-DD>/_SUCCESS                 (written last: the day is complete)

Every ledger file must be present every day, with a header and no rows when
nothing happened. CSV and Parquet are both accepted (one of the two per
ledger and day); CSV is UTF-8 with a header row, comma separated, dates as
YYYY-MM-DD, decimals with a dot, booleans true/false, an empty field is null.

A day is loaded only when its folder holds `_SUCCESS` (a half-written day is
refused unless the run is asked to load it anyway, `--allow-incomplete`);
only folders named YYYY-MM-DD are days. A file that cannot be read as its
ledger (missing, not UTF-8, no header, a column missing, unreadable Parquet)
stops the load of the whole range, names the file (and the row where it
can), and loads nothing. CSV may start with a UTF-8 byte-order mark and
quoted values may hold newlines.

Rules checked row by row; a row that breaks one goes to `raw.quarantine`
with file, row, column and reason (never a personal value), the rest loads:
- every value casts to the column's type;
- required columns are not empty; coded columns hold an allowed value;
- amounts are not below their minimum (never negative);
- the rules across a row's columns listed under its ledger below;
- the business date is not after the landing day (a late payment lands on a
  later day than its value date; a future-dated one is refused), nor before
  the loan's origination;
- a loan's principal equals the principal of its schedule, within the dbt
  var `schedule_principal_tolerance`;
- the key is unique within the day (both rows of a duplicate are refused).

A quarantined loan, installment, payment or write-off leaves its loan's
state unknown: the loan's other rows of that day (in those four ledgers) are
held back with it, and with the policy `held_rows_policy: block` (a dbt var,
the default) the day fails its gate: it and every later day are not aged
until the day is delivered again or released (`lending release-day`). A day
whose raw rows fail the Great Expectations suites fails its gate the same
way. Collection actions and borrower events are quarantined row by row.

Loading a day replaces whatever that day loaded before, so a day can be
delivered again. A loan or a schedule delivered again on a later day
replaces the earlier version (the latest landing wins).

Amounts are in the book's currency. Reversals repeat the amounts of the
payment they undo as positive numbers; `payment_type` says they take it back.
"""


TAPE_INTRO = """# Tape contract

<!-- Generated from dagster_project/lib/contract.py by `lending contract-docs`; edit that file. -->

A month-end status tape is a lender's history (or a book without daily ledgers): one row per
account and month end with its delinquency. It is a CSV file (UTF-8, header row, as the
ledgers) or a Parquet file, in the layout below or in the source's own layout with a mapping
(below). Each tape is one portfolio; roll rates, Pi and the other month-end marts are per
portfolio, through the same models as the book's own month ends.

Land it in the tapes folder (`$LENDING_TAPES`, default `data/tapes/`) as `<portfolio>.csv` or
`<portfolio>.parquet`, with its mapping as `<portfolio>.yaml` if it needs one; the sensor
`landed_tape_sensor` loads it (a partition of `tape_job` per portfolio) and the marts follow.
Or: `lending load-tape PATH [--mapping FILE] [--portfolio NAME]`, then `lending run` (no days:
tapes and marts only, which also works on a warehouse that holds tapes only).

Loading a portfolio again replaces it; other portfolios are untouched. Rows are checked as
ledger rows are (type, required, allowed values, minimum, the rules below, the key unique in
the tape: both rows of a duplicate are refused); a row that breaks a rule goes to
`raw.quarantine` with file, row, column (and the source column behind it) and reason, the
others load. A tape none of whose rows pass stops with an error and changes nothing. The load
reports accounts that miss month ends between their first and last: the month before a gap
has no next month end, so it is not counted as a move. Columns that may be empty may also be
left out of the file. The definition of bad for Pi is the seed `bad_debt_definitions` row of
the portfolio, or by default written off, else the worst bucket, within 12 months; the
published Pi rows name the definition used.
"""


def render_contract(ledger: Ledger) -> str:
    parts = [f"\n## {ledger.name}\n\n{ledger.description}\n\n", f"Key: {', '.join(ledger.key)}."]
    if ledger.date_column:
        parts.append(f" Business date: {ledger.date_column}.")
    parts.append("\n\n| column | type | required | allowed values / minimum | meaning |\n|---|---|---|---|---|\n")
    for c in ledger.columns:
        rule = ", ".join(c.allowed) if c.allowed else (f">= {c.minimum:g}" if c.minimum is not None else "")
        meaning = c.description + (" Personal data: never published." if c.personal else "")
        key = " (key)" if c.name in ledger.key else ""
        parts.append(f"| {c.name}{key} | {c.type} | {'no' if c.nullable else 'yes'} | {rule} | {meaning} |\n")
    for rule in ledger.row_rules:
        parts.append(f"\nRule: `{rule.breached}` is a breach ({rule.column} {rule.message}).\n")
    return "".join(parts)


MAPPING_SECTION = f"""
## Source mappings

A source whose columns or codes differ from the contract is read through a mapping file instead
of code. {MAPPING_DOC.split(chr(10) + chr(10), 1)[1].strip()}

For a daily ledger the mapping is `<landing>/_mappings/<ledger>.yaml` (for example a core
system that calls `loan_id` `LOAN_NO` and codes reversals `R`); every day's file of that
ledger is read through it.
"""


def render_markdown() -> str:
    return INTRO + "".join(render_contract(ledger) for ledger in LEDGERS.values()) + MAPPING_SECTION


def render_tape_markdown() -> str:
    return TAPE_INTRO + render_contract(MONTH_END_TAPE) + MAPPING_SECTION


def render_sources_yml() -> str:
    lines = [
        "# Generated from dagster_project/lib/contract.py by `lending contract-docs`; edit that file.",
        "version: 2",
        "",
        "sources:",
        "  - name: core_lending",
        "    description: Daily ledgers of the core lending system, loaded as landed (see docs/ledger_contract.md).",
        "    schema: raw",
        "    tables:",
        "      - name: landed_files",
        "        description: One row per ledger file loaded, with its landing day and row count.",
        "      - name: landing_day_gate",
        "        description: Per landing day and gate (contract, expectations, release) its decision; rows of a failed,",
        "          unreleased day never reach the models (see lib/gate.py).",
    ]
    for ledger in (*LEDGERS.values(), MONTH_END_TAPE):
        description = json.dumps(ledger.description, ensure_ascii=False)
        lines += [f"      - name: {ledger.name}", f"        description: {description}", "        columns:"]
        for c in ledger.columns:
            lines += [f"          - name: {c.name}", f"            description: {json.dumps(c.description, ensure_ascii=False)}",
                      f"            data_type: {c.type.lower()}"]
            if c.personal:
                lines += ["            meta: {personal_data: true}"]
    return "\n".join(lines) + "\n"


def write_contract_docs() -> list[Path]:
    MARKDOWN_PATH.parent.mkdir(parents=True, exist_ok=True)
    MARKDOWN_PATH.write_text(render_markdown(), encoding="utf-8")
    TAPE_MARKDOWN_PATH.write_text(render_tape_markdown(), encoding="utf-8")
    SOURCES_PATH.write_text(render_sources_yml(), encoding="utf-8")
    return [MARKDOWN_PATH, TAPE_MARKDOWN_PATH, SOURCES_PATH]
