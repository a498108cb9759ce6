"""`lending`: generate a demo book, run the pipeline over a range of days, print a summary."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import time
from pathlib import Path

from dagster_project.lib.settings import bi_path, landing_path, tapes_path, warehouse_path
from dagster_project.pipeline import prepare_dbt, run_pipeline


def summary() -> str:
    import duckdb

    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        last_day = con.execute("select max(as_of_date) from marts.fct_loan_aging_daily").fetchone()[0]
        tapes = con.execute("select portfolio, count(distinct loan_id), min(month_end), max(month_end) "
                            "from raw.month_end_tape group by all order by 1").fetchall() \
            if _has_table(con, "month_end_tape") else []
        if last_day is None:
            return "\n".join(["No loan-day aged: a warehouse of month-end tapes only."]
                             + [f"  tape {p}: {n:,} accounts, month ends {a} .. {b}" for p, n, a, b in tapes]
                             + _publication_lines())
        rows = con.execute(
            """
            select coalesce(bucket, status) as state, count(*) as loans, sum(outstanding_principal) as outstanding,
                   sum(overdue_principal + overdue_interest) as overdue
            from marts.fct_loan_aging_daily where as_of_date = ?
            group by all order by min(coalesce(days_past_due, 99999)), state
            """,
            [last_day],
        ).fetchall()
        days, loan_days = con.execute(
            "select count(distinct as_of_date), count(*) from marts.fct_loan_aging_daily").fetchone()
        par = con.execute("select par30, par90 from marts.fct_portfolio_at_risk where as_of_date = ? "
                          "and asset_class = 'all'", [last_day]).fetchone()
        losses = con.execute(
            """
            select asset_class, sum(exposure), sum(expected_loss_12m), sum(expected_loss_remaining_life),
                   sum(expected_loss_ifrs9), max(bad_debt_estimate_m)
            from marts.fct_expected_loss where month_end = (select max(month_end) from marts.fct_expected_loss)
            group by all order by 1
            """).fetchall() if _has_table(con, "fct_expected_loss") else []
    lines = [f"Aging snapshot: {days} days, {loan_days:,} loan-days. The book on {last_day}:",
             f"  {'state':<12}{'loans':>10}{'outstanding':>18}{'overdue':>16}"]
    lines += [f"  {state:<12}{loans:>10,}{outstanding:>18,.2f}{overdue:>16,.2f}" for state, loans, outstanding, overdue
              in rows]
    if par:
        lines.append(f"  PAR30 {par[0]:.2%}   PAR90 {par[1]:.2%}")
    if losses:
        lines += ["Expected loss at the last month end (EAD x Pi x LGD; M = sum Mi x Pi over M1..M6+, no LGD):",
                  f"  {'asset class':<12}{'exposure':>16}{'12 months':>14}{'remaining life':>16}{'IFRS 9':>14}"
                  f"{'M':>14}"]
        lines += [f"  {a:<12}{e:>16,.0f}{m12:>14,.0f}{life:>16,.0f}{ifrs9:>14,.0f}{m:>14,.0f}"
                  for a, e, m12, life, ifrs9, m in losses]
    lines += _publication_lines()
    return "\n".join(lines)


def _publication_lines() -> list[str]:
    import duckdb

    from dagster_project.lib.publish import published_file
    from dagster_project.lib.quality import DATA_DOCS
    from dagster_project.lib.report import REPORT_DIR

    path = published_file(bi_path())
    if not path.exists():
        if (path.parent / "parquet").exists():
            return [f"The BI publication is missing: {path} is gone. Republish the marts as they are with "
                    "`lending publish` (or run publish_job in Dagster)."]
        return [f"No BI publication at {path}: publish the marts with `lending publish` (or run publish_job)."]
    with duckdb.connect(str(path), read_only=True) as con:
        published_at, last_day, marts = con.execute(
            "select published_at, last_aged_day, marts from publication").fetchone()
    up_to = last_day or "no loan-day (tapes only)"
    return [f"Published to BI at {published_at:%Y-%m-%d %H:%M} UTC: {marts} marts up to {up_to} in {path} "
            f"(Parquet in {path.parent / 'parquet'}).", f"Monitoring report: {path.parent / REPORT_DIR / 'index.html'}",
            f"Validation results (Data Docs): {DATA_DOCS}"]


def held_back_line(first: dt.date, last: dt.date) -> str:
    """The run's last line: quarantined rows that leave a loan's state unknown, per ledger, how many of
    them were held back with another row of their loan and day, and the day whose aging they block."""
    import duckdb

    from dagster_project.lib.gate import blocked_days
    from dagster_project.lib.loader import STATE_LEDGERS

    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        if not _has_table(con, "quarantine"):
            return "No row of a loan's state quarantined."
        counts = con.execute(
            "select ledger, count(distinct (source_file, source_row)), count(distinct (source_file, source_row)) "
            "filter (where reason like 'held back%') from raw.quarantine where landing_date between ? and ? "
            "and list_contains(?, ledger) group by all order by 1", [first, last, STATE_LEDGERS]).fetchall()
        blocked = blocked_days(con, last)
    line = "No row of a loan's state quarantined."
    if counts:
        line = ("Quarantined rows of loans' state: " + ", ".join(f"{n} {ledger}" for ledger, n, _ in counts)
                + f" ({sum(h for *_, h in counts)} of them held back with another row of their loan and day; "
                "see raw.quarantine).")
    if blocked:
        line += (f" Aging blocked from {blocked[0][0]} ({blocked[0][1][:300]}): deliver the day again, or "
                 f"`lending release-day {blocked[0][0]} --reason ...`.")
    return line


def _has_table(con, name: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_name = ?", [name]).fetchone()[0])


def descendants(pid: int) -> list[int]:
    """Every process below pid (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def end_children_with_the_run() -> None:
    """A run that is killed (SIGTERM, SIGHUP, SIGINT) ends its dbt and every other child process first,
    so that nothing writes the warehouse after the run died."""
    def stop(signum, frame):
        for pid in descendants(os.getpid()):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, stop)


def main(argv: list[str] | None = None) -> None:
    end_children_with_the_run()
    parser = argparse.ArgumentParser(prog="lending", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a synthetic book's landing folders")
    gen.add_argument("--loans", type=int, default=80_000)
    gen.add_argument("--months", type=int, default=18)
    gen.add_argument("--start", default="2025-01-01")
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--write-off-dpd", type=int, default=180)
    gen.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    gen.add_argument("--out", type=Path, default=None, help="default: $LENDING_LANDING")
    run = sub.add_parser("run", help="load and age every day from --first to --last (one run), load the landed "
                                     "tapes and rebuild the marts; without days, the tapes and marts only")
    run.add_argument("--first", type=dt.date.fromisoformat)
    run.add_argument("--last", type=dt.date.fromisoformat)
    run.add_argument("--allow-incomplete", action="store_true",
                     help="load days whose folder has no _SUCCESS marker (default: refuse them)")
    run.add_argument("--allow-restatement", action="store_true",
                     help="let late data re-age further back than the dbt var restatement_horizon_days")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild every dbt model from scratch, the aging from the first disbursement (default: "
                          "age the days given, and the days late data changed)")
    tape = sub.add_parser("load-tape", help="land a month-end tape in the tapes folder and load it as a portfolio")
    tape.add_argument("path", type=Path, help="the tape, .csv or .parquet")
    tape.add_argument("--mapping", type=Path, help="a mapping file (YAML) when the tape is in its source's layout")
    tape.add_argument("--portfolio", help="the portfolio it replaces (default: the mapping's, else the file name)")
    release = sub.add_parser("release-day", help="age a day that failed its gate as it was loaded")
    release.add_argument("day", type=dt.date.fromisoformat, help="the landing day, YYYY-MM-DD")
    release.add_argument("--reason", required=True, help="why it is released (kept in raw.landing_day_gate)")
    sub.add_parser("publish", help="validate the marts as they are and publish them to BI (no rebuild)")
    demo = sub.add_parser("demo", help="generate a demo book into a fresh warehouse, run it all, print a summary")
    demo.add_argument("--loans", type=int, default=80_000)
    demo.add_argument("--months", type=int, default=18)
    sub.add_parser("summary", help="print the latest day of the aging snapshot")
    sub.add_parser("contract-docs", help="regenerate docs/ledger_contract.md and the dbt sources file")
    sub.add_parser("expectations", help="rewrite the Great Expectations suites and validation definitions in expectations/gx")
    args = parser.parse_args(argv)

    if args.command == "generate":
        from demo_book.generator import BookConfig, generate_book

        generate_book(BookConfig(n_loans=args.loans, months=args.months, start=args.start, seed=args.seed,
                                 write_off_dpd=args.write_off_dpd, file_format=args.format),
                      args.out or landing_path())
    elif args.command == "run":
        if (args.first is None) != (args.last is None):
            parser.error("give both --first and --last, or neither (tapes and marts only)")
        prepare_dbt()
        try:
            run_pipeline(args.first, args.last, allow_incomplete=args.allow_incomplete,
                         allow_restatement=args.allow_restatement, full_refresh=args.full_refresh)
            print(summary())
        finally:
            if warehouse_path().exists() and args.first:
                print(held_back_line(args.first, args.last))
    elif args.command == "load-tape":
        import duckdb

        from dagster_project.lib.settings import duckdb_config
        from dagster_project.lib.tapes import land_tape, load_landed_tape, tape_mapping

        # read (and a bad mapping refused) before anything is landed; --portfolio wins over the mapping's
        portfolio = tape_mapping(args.mapping, args.portfolio).constants.get("portfolio") or args.path.stem
        land_tape(args.path, args.mapping, tapes_path(), portfolio)
        warehouse_path().parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(warehouse_path()), config=duckdb_config()) as con:
            print(load_landed_tape(con, tapes_path(), portfolio).report())
        print("Rebuild the marts with `lending run` (tapes and marts only) or wait for the next daily run.")
    elif args.command == "release-day":
        import duckdb

        from dagster_project.lib.gate import release

        with duckdb.connect(str(warehouse_path())) as con:
            release(con, args.day, args.reason)
        print(f"Released {args.day}: its rows are aged as loaded. Age it and the days after it with "
              f"`lending run --first {args.day} --last <last landed day>`.")
    elif args.command == "publish":
        import dagster as dg

        from dagster_project import definitions

        prepare_dbt()
        definitions.defs().resolve_job_def("publish_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
        print(summary())
    elif args.command == "demo":
        from demo_book.generator import BookConfig, generate_book

        started = time.monotonic()
        from dagster_project.lib.settings import UCI_MAPPING, UCI_TAPE
        from dagster_project.lib.tapes import land_tape

        shutil.rmtree(landing_path(), ignore_errors=True)
        shutil.rmtree(tapes_path(), ignore_errors=True)
        warehouse_path().unlink(missing_ok=True)
        if UCI_TAPE.exists():
            land_tape(UCI_TAPE, UCI_MAPPING, tapes_path(), "uci_credit_card")
        warehouse_path().parent.mkdir(parents=True, exist_ok=True)
        config = BookConfig(n_loans=args.loans, months=args.months)
        generate_book(config, landing_path())
        first = dt.date.fromisoformat(config.start)
        last = (dt.datetime.strptime(config.start, "%Y-%m-%d").date().replace(day=1)
                + dt.timedelta(days=31 * args.months)).replace(day=1) - dt.timedelta(days=1)
        prepare_dbt()
        print(f"Running the pipeline over {first} .. {last} ...", flush=True)
        run_pipeline(first, last)
        print(summary())
        print(f"Demo done in {time.monotonic() - started:.0f}s. Warehouse: {warehouse_path()}")
    elif args.command == "summary":
        print(summary())
    elif args.command == "contract-docs":
        from dagster_project.lib.contract_docs import write_contract_docs

        for path in write_contract_docs():
            print(f"wrote {path}")
    elif args.command == "expectations":
        from dagster_project.lib.quality import GX_ROOT, write_context

        write_context()
        print(f"wrote {GX_ROOT / 'gx'}")


if __name__ == "__main__":
    main()
