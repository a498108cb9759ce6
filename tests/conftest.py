import os
import shutil
import tempfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
# Nothing a test does lands in the repository: each process (each xdist worker) validates in its own
# copy of the GX context (validations write results and Data Docs), and the warehouse, landing, tapes
# and BI folders default to a scratch folder (tests point them at their own with warehouse_at).
_scratch = Path(tempfile.mkdtemp(prefix="lending-tests-"))
shutil.copytree(REPO / "expectations", _scratch / "expectations", ignore=shutil.ignore_patterns("uncommitted"))
# The pipeline's warehouse is <scratch>/current/warehouse.duckdb all session long, `current` a link to the
# folder of the test at hand (warehouse_at): dbt's saved parse holds the profile, the warehouse's path
# included, and a dbt run on another path parses the whole project again (3-4 s, three times a pipeline).
# Dagster's dbt runs start from this process's saved parse, <scratch>/dbt_target (dbt_manifest).
DBT_TARGET = _scratch / "dbt_target"
CURRENT = _scratch / "current"
(_scratch / "default").mkdir()
CURRENT.symlink_to(_scratch / "default")
os.environ.update(GX_ANALYTICS_ENABLED="false", LENDING_GX_ROOT=str(_scratch / "expectations"),
                  LENDING_WAREHOUSE=str(CURRENT / "warehouse.duckdb"), LENDING_LANDING=str(_scratch / "landing"),
                  LENDING_TAPES=str(_scratch / "tapes"), LENDING_BI=str(_scratch / "bi"))
os.environ.setdefault("DAGSTER_HOME", str(REPO / "dagster_home"))
INTEGRATION = REPO / "tests" / "integration"
UNTOUCHED = (REPO / "expectations" / "gx" / "uncommitted", REPO / "data")


def _listing(folder: Path) -> set:
    return {(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")} if folder.exists() else set()


def pytest_sessionstart(session):
    session.config.untouched = {folder: _listing(folder) for folder in UNTOUCHED}


def pytest_sessionfinish(session, exitstatus):
    """The suite fails if it changed the repository's Data Docs and validation results or its data/ folder.
    Each process then removes its scratch folder."""
    changed = [str(folder) for folder, before in session.config.untouched.items() if _listing(folder) != before]
    if changed and not os.environ.get("PYTEST_XDIST_WORKER"):
        session.config.get_terminal_writer().line(f"FAILED: the tests changed {', '.join(changed)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    shutil.rmtree(_scratch, ignore_errors=True)  # this process's scratch folder (pytest keeps its own tmp_path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Each test file runs on one worker, so that its module fixtures are built once; the files marked
    xdist_group("book") share one worker, so that the generated book they read is built once. Every test in
    tests/integration runs the pipeline: it is slow."""
    for item in items:
        if not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(item.path.name))
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """Dagster reads the dbt manifest in dbt/target: parse once so that it matches the models on disk (one
    worker at a time: they write the same folder). That parse, made with this process's profile, is where
    its dbt runs start from."""
    import fcntl

    from dagster_project.lib.settings import DBT_DIR
    from dagster_project.pipeline import run_dbt

    (DBT_DIR / "target").mkdir(exist_ok=True)
    with open(DBT_DIR / "target" / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run_dbt("parse", "--quiet", target_path=str(DBT_DIR / "target"))
        DBT_TARGET.mkdir(exist_ok=True)
        shutil.copy(DBT_DIR / "target" / "partial_parse.msgpack", DBT_TARGET)


@contextmanager
def warehouse_at(folder: Path, seeded: bool = True):
    """Point the pipeline at <folder>/warehouse.duckdb (through the link `current`), <folder>/landing,
    <folder>/tapes and <folder>/bi for the duration, and Dagster's dbt runs at this process's saved parse.

    A folder without a warehouse starts (seeded) from a copy of one whose configuration seeds config_job
    loaded, built once per process: loading them is a dbt run, 5-9 s of every new warehouse's first
    pipeline run. Not seeded, it starts empty, for what config_job itself does."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "warehouse.duckdb").exists():
        # a new warehouse's audits start from no stored validation results: another warehouse's are not its
        # history, and each Data Docs build renders them all (4 s for the 420 a worker's session piled up)
        from dagster_project.lib import quality

        quality._prune_results(quality.GX_ROOT / "gx" / "uncommitted", keep_days=0)
        if seeded:
            shutil.copy(_seeded_warehouse(), folder / "warehouse.duckdb")
    before = CURRENT.readlink()
    _point_current_at(folder)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LENDING_LANDING", str(folder / "landing"))
            mp.setenv("LENDING_BI", str(folder / "bi"))
            mp.setenv("LENDING_TAPES", str(folder / "tapes"))
            mp.setenv("DBT_TARGET_PATH", str(DBT_TARGET))
            yield folder
    finally:
        _point_current_at(before)


@cache
def _seeded_warehouse() -> Path:
    """A warehouse in which config_job loaded the configuration seeds, and nothing else."""
    import dagster as dg

    from dagster_project import definitions

    folder = _scratch / "seeded"
    with warehouse_at(folder, seeded=False):
        definitions.defs().resolve_job_def("config_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    return folder / "warehouse.duckdb"


def _point_current_at(folder: Path) -> None:
    link = _scratch / "current.new"
    link.symlink_to(folder)
    link.replace(CURRENT)


def saved_parse_at(folder: Path) -> Path:
    """<folder>/target, a dbt target folder that starts from this process's saved parse: a dbt run given it
    (on the warehouse path warehouse_at sets) does not parse the whole project again (5 s)."""
    (folder / "target").mkdir()
    shutil.copy(DBT_TARGET / "partial_parse.msgpack", folder / "target")
    return folder / "target"


def query(folder: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def daily_run_logs(folder: Path) -> str:
    """The logs of the daily runs `run_pipeline` wrote into <folder>/logs (those run with progress)."""
    return "".join(path.read_text() for path in (folder / "logs").glob("daily_ledgers_job-*.log"))


def month_ends_against_the_truth(folder: Path) -> list[tuple]:
    """The loan-month ends where fct_loan_aging_monthly differs from a generated book's truth (its landing's
    _truth/month_end_states.parquet): (loan, month end, true state, aged state)."""
    return query(folder, f"""
        with truth as (
            select loan_id, month_end, state,
                   lag(state) over (partition by loan_id order by month_end) as previous_state
            from read_parquet('{folder}/landing/_truth/month_end_states.parquet')
        )
        select truth.loan_id, truth.month_end, truth.state, coalesce(m.bucket, m.status)
        from truth
        full join marts.fct_loan_aging_monthly m on m.loan_id = truth.loan_id and m.month_end = truth.month_end
        -- a closed loan is kept only at the month end of its closing month
        where (truth.state not in ('paid_off', 'written_off') or truth.previous_state is distinct from truth.state
               or truth.loan_id is null)
          and truth.state is distinct from coalesce(m.bucket, m.status)
    """)
