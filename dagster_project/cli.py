"""`lending`: generate a demo book, run the pipeline over a range of days, print a summary."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import time
from pathlib import Path

from dagster_project.lib.settings import REPO, bi_path, landing_path, tapes_path, warehouse_path
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


DEMO_MARKER = ".created-by-lending-demo"  # in a folder (or beside a file) that `lending demo` may delete again


class Parser(argparse.ArgumentParser):
    """Refusals in one line (no usage block), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}\n")


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


def build_parser() -> Parser:
    parser = Parser(prog="lending", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, text: str) -> Parser:
        return sub.add_parser(name, help=text, description=text, formatter_class=argparse.ArgumentDefaultsHelpFormatter)

    gen = command("generate", "write a synthetic book's landing folders")
    gen.add_argument("--loans", type=int, default=80_000, help="loans in the book")
    gen.add_argument("--months", type=int, default=18, help="months of daily ledgers")
    gen.add_argument("--start", type=_day, default=dt.date(2025, 1, 1), help="first day, YYYY-MM-DD")
    gen.add_argument("--seed", type=int, default=7, help="random seed (the same seed writes the same book)")
    gen.add_argument("--write-off-dpd", type=int, default=180, help="days past due at which a loan is written off")
    gen.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format of the ledgers")
    gen.add_argument("--out", type=Path, default=landing_path(), help="landing folder ($LENDING_LANDING)")
    run = command("run", "load and age every day from --first to --last (one run), load the landed tapes and "
                         "rebuild the marts; without days, the tapes and marts only")
    run.add_argument("--first", type=_day, help="first landing day to load and age, YYYY-MM-DD")
    run.add_argument("--last", type=_day, help="last landing day, YYYY-MM-DD (not before --first)")
    run.add_argument("--allow-incomplete", action="store_true",
                     help="load days whose folder has no _SUCCESS marker (otherwise they are refused)")
    run.add_argument("--allow-restatement", action="store_true",
                     help="let late data re-age further back than the dbt var restatement_horizon_days")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild every dbt model from scratch, the aging from the first disbursement (otherwise "
                          "the days given are aged, and the days late data changed)")
    tape = command("load-tape", "land a month-end tape in the tapes folder and load it as a portfolio")
    tape.add_argument("path", type=Path, help="the tape, .csv or .parquet")
    tape.add_argument("--mapping", type=Path, help="a mapping file (YAML) when the tape is in its source's layout")
    tape.add_argument("--portfolio", help="the portfolio it replaces (otherwise the mapping's, else the file name)")
    release = command("release-day", "age a day that failed its gate as it was loaded")
    release.add_argument("day", type=_day, help="the landing day, YYYY-MM-DD")
    release.add_argument("--reason", required=True, help="why it is released (kept in raw.landing_day_gate)")
    command("publish", "validate the marts as they are and publish them to BI (no rebuild)")
    demo = command("demo", "generate a demo book and the UCI tape into the landing and tapes folders, age it in a "
                           "new warehouse, publish it and print a summary; deletes only what an earlier demo created")
    demo.add_argument("--loans", type=int, default=80_000, help="loans in the demo book")
    demo.add_argument("--months", type=int, default=18, help="months of daily ledgers")
    demo.add_argument("--force", action="store_true",
                      help="delete the landing and tapes folders and the warehouse even if no demo created them")
    command("summary", "print the latest day of the aging snapshot")
    command("contract-docs", "regenerate docs/ledger_contract.md and the dbt sources file")
    command("expectations", "rewrite the Great Expectations suites and validation definitions in expectations/gx")
    return parser


def refusal(args: argparse.Namespace) -> str | None:
    """Why the command cannot start, checked before Dagster or dbt is loaded; None when it can."""
    warehouse = warehouse_path()
    if args.command in ("run", "demo", "load-tape"):
        try:
            warehouse.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            return f"cannot create the warehouse folder {warehouse.parent}: {error.strerror}"
    if args.command == "run" and (args.first or args.last):
        if args.first is None or args.last is None:
            return "give both --first and --last, or neither (tapes and marts only)"
        if args.first > args.last:
            return f"--first {args.first} is after --last {args.last}"
        landing = landing_path()
        if not landing.is_dir():
            return f"no landing folder {landing} (set LENDING_LANDING, or `lending generate`)"
        days = [args.first + dt.timedelta(days=i) for i in range((args.last - args.first).days + 1)]
        missing = [day for day in days if not (landing / day.isoformat()).is_dir()]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            return f"no landing folder for {missing[0]}{more} in {landing}: a missing day stops the aging of later days"
    if args.command in ("release-day", "publish", "summary") and not warehouse.exists():
        return f"no warehouse at {warehouse} (set LENDING_WAREHOUSE, or `lending run` first)"
    if args.command == "load-tape":
        for path in (args.path, args.mapping):
            if path is not None and not path.is_file():
                return f"no such file: {path}"
    if args.command == "demo" and not args.force:
        for path in (landing_path(), tapes_path(), warehouse):
            if _not_the_demos(path):
                return f"{path} exists and no demo created it: the demo would delete it (use --force, or point " \
                       "LENDING_LANDING, LENDING_TAPES and LENDING_WAREHOUSE elsewhere)"
    return None


def _demo_marker(path: Path) -> Path:
    return path / DEMO_MARKER if path.is_dir() else path.with_name(path.name + DEMO_MARKER)


def _not_the_demos(path: Path) -> bool:
    empty = path.is_dir() and not any(path.iterdir())
    return path.exists() and not empty and not _demo_marker(path).exists()


def _say(line: str) -> None:
    print(line, flush=True)


def _instance():
    """The Dagster instance of DAGSTER_HOME (the repository's dagster_home by default): what the UI shows."""
    import dagster as dg

    # dagster.yaml reads DAGSTER_HOME for the event log's folder
    home = os.environ.setdefault("DAGSTER_HOME", str(REPO / "dagster_home"))
    return dg.DagsterInstance.from_config(home)


def _root_message(error: BaseException) -> str:
    """The error that matters: the innermost cause, its first lines."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: " + "\n  ".join(str(error).strip().splitlines()[:4])


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = refusal(args)
    if problem:
        parser.exit(2, f"lending {args.command}: {problem}\n")
    end_children_with_the_run()

    if args.command == "generate":
        from demo_book.generator import BookConfig, generate_book

        generate_book(BookConfig(n_loans=args.loans, months=args.months, start=args.start.isoformat(), seed=args.seed,
                                 write_off_dpd=args.write_off_dpd, file_format=args.format), args.out)
    elif args.command == "run":
        prepare_dbt()
        failure = None
        try:
            run_pipeline(args.first, args.last, instance=_instance(), allow_incomplete=args.allow_incomplete,
                         allow_restatement=args.allow_restatement, full_refresh=args.full_refresh, progress=_say)
            print(summary())
        except Exception as error:  # the run's log (its path printed above) holds the rest
            failure = _root_message(error)
        if warehouse_path().exists() and args.first:
            print(held_back_line(args.first, args.last))
        if failure:
            parser.exit(1, f"lending run: failed: {failure}\n")
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
        from dagster_project import definitions

        prepare_dbt()
        definitions.defs().resolve_job_def("publish_job").execute_in_process(instance=_instance())
        print(summary())
    elif args.command == "demo":
        from demo_book.generator import BookConfig, generate_book

        started = time.monotonic()
        from dagster_project.lib.settings import UCI_MAPPING, UCI_TAPE
        from dagster_project.lib.tapes import land_tape

        shutil.rmtree(landing_path(), ignore_errors=True)
        shutil.rmtree(tapes_path(), ignore_errors=True)
        warehouse_path().unlink(missing_ok=True)
        for folder in (landing_path(), tapes_path()):
            folder.mkdir(parents=True)
            _demo_marker(folder).touch()
        _demo_marker(warehouse_path()).touch()
        if UCI_TAPE.exists():
            land_tape(UCI_TAPE, UCI_MAPPING, tapes_path(), "uci_credit_card")
        config = BookConfig(n_loans=args.loans, months=args.months)
        generate_book(config, landing_path())
        first = dt.date.fromisoformat(config.start)
        last = (dt.datetime.strptime(config.start, "%Y-%m-%d").date().replace(day=1)
                + dt.timedelta(days=31 * args.months)).replace(day=1) - dt.timedelta(days=1)
        _say(f"Generated {args.loans:,} loans over {first} .. {last} into {landing_path()}")
        prepare_dbt()
        _say(f"Running the pipeline over {first} .. {last} (the steps below; Dagster's log of each run in its file):")
        try:
            run_pipeline(first, last, instance=_instance(), progress=_say)
        except Exception as error:
            parser.exit(1, f"lending demo: failed: {_root_message(error)}\n")
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
