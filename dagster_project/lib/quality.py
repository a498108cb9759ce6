"""The quality gate: Great Expectations suites for the raw ledgers and the published marts.

Each suite is a SQL frame (the rows to validate, with derived columns for rules that span
tables) and expectations on its columns. The frames are read from DuckDB into pandas and
validated by the suite's validation definition in the GX file context in expectations/gx, which
stores the results; the Data Docs are rebuilt once after a run's suites (build_data_docs). (GX's
own SQL datasource returns empty results on DuckDB: upstream bug #11579.) Every expectation is
row by row, so a large frame is validated in chunks.

`lending expectations` writes the suites and validation definitions from this module into
expectations/gx; a test keeps the committed JSON in step.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from .contract import LEDGERS
from .settings import REPO

GX_ROOT = Path(os.environ.get("LENDING_GX_ROOT", REPO / "expectations"))
DATA_DOCS = GX_ROOT / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
# What GX's pages load from CDNs -> the committed copy (data_docs_assets/, its README says from where)
OFFLINE_ASSETS = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "offline/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "offline/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "offline/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "offline/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "offline/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "offline/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "offline/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "offline/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "offline/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "offline/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "offline/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "offline/bootstrap-prefers-dark.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "offline/fontawesome/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "offline/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "offline/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "offline/vega-embed.min.js",
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png": "images/logo-long.png",
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png": "images/logo-long.png",
}
CDN_URL = re.compile("(" + "|".join(re.escape(url) for url in OFFLINE_ASSETS) + r""")(\?[^"')]*)?""")
DATA_SOURCE = "warehouse_frames"
CHUNK_ROWS = 2_000_000
UNEXPECTED_SHOWN = 5
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": UNEXPECTED_SHOWN}
KEEP_RESULTS_DAYS = 30
PERSONAL_COLUMNS = sorted(c.name for ledger in LEDGERS.values() for c in ledger.columns if c.personal)


@dataclass(frozen=True)
class Rule:
    """One expectation: kind (not_null, between, in_set, is_true, not_in_set, distinct_set), column, arguments."""
    kind: str
    column: str
    args: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.column}:{self.kind}"


@dataclass(frozen=True)
class Suite:
    name: str
    asset: tuple[str, ...]  # the Dagster asset whose check the suite is
    description: str
    frame: str  # SQL; raw suites take $start and $end (the landing window)
    rules: tuple[Rule, ...]
    blocking: bool = True  # False: a failure warns and publishing goes on


@dataclass(frozen=True)
class Failure:
    rule: str
    unexpected_count: int | None
    unexpected: list  # a few of the offending values
    rows: list  # the same rows, whole, for the report

    def __str__(self) -> str:
        if self.unexpected_count is None:  # an expectation on the whole frame, or one that raised
            return f"{self.rule}: {self.rows[:1]}"
        return f"{self.rule}: {self.unexpected_count} row(s), e.g. {self.rows[:3] or self.unexpected[:3]}"


@dataclass(frozen=True)
class Result:
    suite: str
    rows: int
    failures: list[Failure]

    @property
    def success(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: all {self.rows} row(s) pass"
        return f"{self.suite}: " + "; ".join(str(f) for f in self.failures)


# --- the suites -----------------------------------------------------------------------------

def _raw_suite(name: str) -> Suite:
    """What the loader cannot see row by row: keys across days, references across ledgers. (Types,
    required values, codes, minimums and dates are the contract's per-row rules: the loader's.)"""
    ledger = LEDGERS[name]
    keys = list(ledger.key)
    if ledger.name in ("loans", "repayment_schedule"):  # a version per landing day
        keys.append("_landing_date")
        counted = "window_rows"
    else:  # ids unique in the book: count the window's keys over every day
        counted = f"raw.{name} where {ledger.key[0]} in (select {ledger.key[0]} from window_rows)"
    on = " and ".join(f"k.{key} is not distinct from t.{key}" for key in keys)
    derived = ["k.key_rows"]
    rules = [Rule("between", "key_rows", {"min_value": 1, "max_value": 1})]
    if name != "loans":
        derived.append("t.loan_id in (select loan_id from raw.loans) as loan_is_known")
        rules.append(Rule("is_true", "loan_is_known"))
    if name == "repayments":
        derived.append(
            "t.payment_type <> 'reversal' or exists (select 1 from raw.repayments as paid where paid.payment_id = "
            "t.reverses_payment_id and paid.loan_id = t.loan_id and paid.payment_type = 'payment') "
            "as reversal_points_at_a_payment")
        rules.append(Rule("is_true", "reversal_points_at_a_payment"))
    # the rows' keys and where they came from, enough to find them: not every column through pandas
    shown = ", ".join(f"t.{column}" for column in dict.fromkeys([*keys, "_landing_date", "_source_file", "_source_row"]))
    frame = (f"with window_rows as (select * from raw.{name} where _landing_date >= $start and _landing_date < $end "
             # a released day is aged as loaded: an operator's decision, not validated again
             "and _landing_date not in (select landing_date from raw.landing_day_gate where gate = 'release')), "
             f"key_counts as (select {', '.join(keys)}, count(*) as key_rows from {counted} group by all) "
             f"select {shown}, {', '.join(derived)} from window_rows as t left join key_counts as k on {on}")
    return Suite(f"raw_{name}", ("core_lending", name),
                 f"raw.{name} rows landed in the run's window: keys unique across days, references to known loans "
                 "(and, for reversals, to a payment).", frame, tuple(rules))


def _raw_schema_suite() -> Suite:
    expected = sorted(
        [f"{name}.{c.name} {c.type}" for name, ledger in LEDGERS.items() for c in ledger.columns]
        + [f"{name}.{extra}" for name in LEDGERS
           for extra in ("_landing_date DATE", "_source_file VARCHAR", "_source_row BIGINT")])
    tables = ", ".join(f"'{name}'" for name in LEDGERS)
    return Suite(
        "raw_schema", ("core_lending", "landed_files"),
        "Every raw ledger has exactly the contract's columns with the contract's types.",
        "select table_name || '.' || column_name || ' ' || data_type as column_type from information_schema.columns "
        f"where table_schema = 'raw' and table_name in ({tables})",
        (Rule("distinct_set", "column_type", {"value_set": expected}),))


MARTS_CANDIDATE = ("audit", "marts_candidate")  # the marts as built, before publishing

PUBLISHED = "published"  # the last publication, attached read-only when there is one


def _drift_frame(level: str) -> str:
    """Per row of the pooled roll-rate matrix and per Pi, its population stability index against the last
    publication (PSI = sum (p - q) ln(p / q) over the row's destinations; for Pi over bad / not bad), and
    whether it stays below the seed drift_thresholds' `level`. No publication yet: no row."""
    floor = "0.0001"  # an empty cell against a filled one is a big but finite change

    def psi(p, q):
        return f"(greatest({p}, {floor}) - greatest({q}, {floor})) * ln(greatest({p}, {floor}) / greatest({q}, {floor}))"
    return (
        f"with thresholds as (select measure, {level} as threshold, min_accounts from config.drift_thresholds), "
        "rates as (select c.portfolio, c.asset_class, c.from_state as state, 'roll_rate_row' as measure, "
        f"sum({psi('c.account_rate', 'coalesce(p.account_rate, 0)')}) as psi, "
        "least(max(c.from_accounts), coalesce(max(p.from_accounts), 0)) as accounts "
        f"from marts.fct_roll_rates_pooled c left join {PUBLISHED}.fct_roll_rates_pooled p using "
        "(portfolio, asset_class, from_state, to_state) group by all), "
        "pi as (select c.portfolio, c.asset_class, c.bucket, 'pi', "
        f"{psi('c.markov_pi_within_horizon', 'p.markov_pi_within_horizon')} + "
        f"{psi('1 - c.markov_pi_within_horizon', '1 - p.markov_pi_within_horizon')}, "
        "least(c.transitions_observed, p.transitions_observed) "
        f"from marts.fct_bad_debt_probability c join {PUBLISHED}.fct_bad_debt_probability p "
        "using (portfolio, asset_class, bucket)) "
        "select rows.*, thresholds.threshold, rows.psi <= thresholds.threshold as stable "
        "from (select * from rates union all select * from pi) as rows join thresholds using (measure) "
        "where rows.accounts >= thresholds.min_accounts")


def attach_publication(con: duckdb.DuckDBPyConnection, path) -> None:
    """The last publication as the schema `published`, for the drift suites; without one, empty tables."""
    if path.exists():
        con.execute(f"attach '{path}' as {PUBLISHED} (read_only)")
        return
    con.execute(f"attach ':memory:' as {PUBLISHED}")
    for mart in ("fct_roll_rates_pooled", "fct_bad_debt_probability"):
        con.execute(f"create table {PUBLISHED}.{mart} as select * from marts.{mart} limit 0")


MART_SUITES = (
    Suite("mart_bad_debt_probability", MARTS_CANDIDATE,
          "At the definition's horizon the chain's and the cohort's Pi agree within their uncertainty (methods_agree, "
          "computed in fct_bad_debt_probability): a row where they do not stops the publication.",
          "select portfolio, asset_class, bucket, markov_pi_within_horizon, cohort_pi, cohort_pi_low, cohort_pi_high, "
          "methods_agree from marts.fct_bad_debt_probability",
          (Rule("is_true", "methods_agree"),)),
    Suite("mart_expected_loss", MARTS_CANDIDATE,
          "No asset class with exposure has a 12-month expected loss of exactly 0 (unless the book never saw a loan "
          "go bad).",
          "select month_end, asset_class, sum(exposure) = 0 or sum(expected_loss_12m) > 0 "
          # a book that never saw a loan go bad has nothing to blend with: only then may a loss be 0
          "or (select coalesce(max(markov_pi), 0) from marts.fct_bad_debt_probability_by_horizon "
          "where portfolio = 'book' and asset_class = 'all') = 0 "
          "as loss_where_exposure from marts.fct_expected_loss group by month_end, asset_class",
          (Rule("is_true", "loss_where_exposure"),)),
    Suite("mart_days_complete", MARTS_CANDIDATE,
          "No day is missing between the first and the last aged day (overdue matrix and PAR).",
          "select as_of_date - lag(as_of_date) over (partition by mart order by as_of_date) as days_since_previous "
          "from (select distinct 'fct_overdue_matrix' as mart, as_of_date from marts.fct_overdue_matrix union all "
          "select distinct 'fct_portfolio_at_risk', as_of_date from marts.fct_portfolio_at_risk)",
          (Rule("between", "days_since_previous", {"min_value": 1, "max_value": 1}),)),
    Suite("mart_drift", MARTS_CANDIDATE,
          "No roll-rate row and no Pi moved more since the last publication than the seed drift_thresholds' "
          "block level (population stability index): such a row stops the publication.",
          _drift_frame("block_above"), (Rule("is_true", "stable"),)),
    Suite("mart_drift_warning", MARTS_CANDIDATE,
          "The same at the seed's warn level: a warning, not a stop.",
          _drift_frame("warn_above"), (Rule("is_true", "stable"),), blocking=False),
    Suite("marts_without_personal_data", MARTS_CANDIDATE,
          "No mart carries a personal column of the ledger contract (names, phone and ID numbers).",
          "select table_name || '.' || column_name as mart_column, column_name from information_schema.columns "
          "where table_schema = 'marts'",
          (Rule("not_in_set", "column_name", {"value_set": PERSONAL_COLUMNS}),)),
)

RAW_SUITES = (_raw_schema_suite(),) + tuple(_raw_suite(name) for name in LEDGERS)
SUITES = {suite.name: suite for suite in RAW_SUITES + MART_SUITES}


# --- Great Expectations -----------------------------------------------------------------------

def import_great_expectations():
    """great_expectations, without loading scipy.stats: GX imports it at its start only for expectations no suite
    uses (KL divergence, Kolmogorov-Smirnov), and it is about 0.6 s of GX's 2.1 s, paid by every run's audit
    (docs/benchmark.md). A lazy module stands in for it and loads it on first use. GX's analytics stay off unless
    the environment asks for them."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if "scipy.stats" not in sys.modules:
        import scipy

        spec = importlib.util.find_spec("scipy.stats")
        spec.loader = importlib.util.LazyLoader(spec.loader)
        # GX reads it as `from scipy import stats`: the attribute, not the import system, which would load it
        sys.modules["scipy.stats"] = scipy.stats = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(scipy.stats)
    import great_expectations

    return great_expectations


def _expectation(rule: Rule):
    gx = import_great_expectations()
    classes = {
        "not_null": gx.expectations.ExpectColumnValuesToNotBeNull,
        "between": gx.expectations.ExpectColumnValuesToBeBetween,
        "in_set": gx.expectations.ExpectColumnValuesToBeInSet,
        "not_in_set": gx.expectations.ExpectColumnValuesToNotBeInSet,
        "distinct_set": gx.expectations.ExpectColumnDistinctValuesToEqualSet,
    }
    if rule.kind == "is_true":
        return gx.expectations.ExpectColumnValuesToBeInSet(column=rule.column, value_set=[True], meta={"rule": rule.name})
    return classes[rule.kind](column=rule.column, **rule.args, meta={"rule": rule.name})


def write_context(root=GX_ROOT) -> None:
    """Rewrite <root>/gx from SUITES: a pandas data source, per suite a dataframe asset, the
    suite and a validation definition."""
    gx = import_great_expectations()

    shutil.rmtree(root / "gx", ignore_errors=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = {"globally": False}
    context.variables.save()
    source = context.data_sources.add_pandas(DATA_SOURCE)
    for suite in SUITES.values():
        batch = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("frame")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name, meta={"description": suite.description}))
        for rule in suite.rules:
            gx_suite.add_expectation(_expectation(rule))
        context.validation_definitions.add(gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite))


@cache
def _context():
    gx = import_great_expectations()

    _prune_results(GX_ROOT / "gx" / "uncommitted")
    return gx.get_context(mode="file", project_root_dir=str(GX_ROOT))


def _prune_results(uncommitted, keep_days: int = KEEP_RESULTS_DAYS) -> None:
    """Validation results (and their Data Docs pages) older than keep_days: building the Data Docs
    re-renders the index over all stored results, so they must not pile up for years."""
    cutoff = time.time() - keep_days * 86_400
    for folder in (uncommitted / "validations", uncommitted / "data_docs" / "local_site" / "validations"):
        for path in folder.rglob("*") if folder.exists() else ():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()


def validate(con: duckdb.DuckDBPyConnection, suite: Suite, params: dict) -> Result:
    """Validate the suite's frame, chunk by chunk; the results are stored in the GX context."""
    definition = _context().validation_definitions.get(suite.name)
    cursor = con.execute(suite.frame, {k: v for k, v in params.items() if f"${k}" in suite.frame})
    failures: dict[str, Failure] = {}
    rows = 0
    for frame in _chunks(cursor):
        rows += len(frame)
        result = definition.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
        for outcome in result.results:
            if not outcome.success:
                rule = outcome.expectation_config.meta["rule"]
                failures[rule] = _merge(failures.get(rule), rule, outcome, frame)
    return Result(suite.name, rows, list(failures.values()))


def _chunks(cursor: duckdb.DuckDBPyConnection):
    """The cursor's rows as pandas frames of up to CHUNK_ROWS rows, one empty frame when there are none. Read
    through Arrow, strings become pandas' own Arrow-backed strings without a Python object for each: three
    times faster than DuckDB's conversion on a year of raw rows (docs/benchmark.md)."""
    import pandas as pd  # with Great Expectations, not when Dagster loads the definitions

    strings = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}  # pandas' default `str`
    reader = cursor.to_arrow_reader(CHUNK_ROWS)
    batches = (batch for batch in reader if batch.num_rows)
    # the first batch, or an empty one when there are no rows (the reader then yields none), then the rest
    for batch in itertools.chain([next(batches, reader.schema.empty_table())], batches):
        yield batch.to_pandas(types_mapper=strings.get, date_as_object=False)


def build_data_docs() -> None:
    """The Data Docs over the stored results: once a run's suites are validated, not per chunk. They
    load nothing from the internet: a browser offline shows them whole."""
    _context().build_data_docs()
    serve_assets_locally(DATA_DOCS.parent)


def serve_assets_locally(site: Path) -> None:
    """Point the site's pages at copies of their CDN scripts, styles and icons under static/offline/."""
    shutil.copytree(GX_ROOT / "data_docs_assets", site / "static" / "offline", dirs_exist_ok=True)
    for page in [*site.rglob("*.html"), *(site / "static" / "styles").glob("*.css")]:
        text = page.read_text(encoding="utf-8")
        static = Path(os.path.relpath(site / "static", page.parent)).as_posix()
        local = CDN_URL.sub(lambda m, static=static: f"{static}/{OFFLINE_ASSETS[m[1]]}", text)
        if local != text:
            page.write_text(local, encoding="utf-8")


def _merge(earlier: Failure | None, rule: str, outcome, frame) -> Failure:
    """One failure per rule over all chunks: counts added, the first offending rows kept."""
    found = outcome.result or {}
    if outcome.exception_info.get("raised_exception"):
        count, rows = None, [outcome.exception_info.get("exception_message")]
    elif "unexpected_count" not in found:
        count, rows = None, [f"observed {found.get('observed_value')}"]
    else:
        count = found.get("unexpected_count")
        indexes = found.get("partial_unexpected_index_list") or []
        shown = frame.loc[indexes[:UNEXPECTED_SHOWN]].drop(columns=PERSONAL_COLUMNS, errors="ignore")
        rows = shown.to_dict("records") if indexes else []
    if earlier is None:
        return Failure(rule, count, list(found.get("partial_unexpected_list") or []), rows)
    total = None if count is None or earlier.unexpected_count is None else earlier.unexpected_count + count
    return Failure(rule, total, earlier.unexpected, (earlier.rows + rows)[:UNEXPECTED_SHOWN])


def raw_params(first_day: dt.date, last_day: dt.date) -> dict:
    return {"start": first_day, "end": last_day + dt.timedelta(days=1)}
