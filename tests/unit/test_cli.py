"""The `lending` command: a killed run ends its children; the summary names a missing publication."""

import signal
import subprocess
import sys
import time

import pytest

from dagster_project.cli import descendants

PARENT = """
import signal, subprocess, sys, time
from dagster_project.cli import end_children_with_the_run
signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as from a shell: a test worker may pass SIGTERM on ignored
if sys.argv[1] == "handled":
    end_children_with_the_run()
child = subprocess.Popen(["sleep", "60"])  # stands for a dbt build busy in a long query, writing nothing
print(child.pid, flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_killed_run_ends_its_children(signum):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, "handled"], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert descendants(parent.pid) == [child]
    parent.send_signal(signum)
    parent.wait(timeout=10)
    time.sleep(0.2)
    assert not _alive(child)


def test_without_the_handler_the_child_would_run_on():
    parent = subprocess.Popen([sys.executable, "-c", PARENT, "plain"], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGTERM)
    parent.wait(timeout=10)
    time.sleep(0.2)
    try:
        assert _alive(child)
    finally:
        subprocess.run(["kill", str(child)])


def test_summary_says_when_the_publication_is_missing(tmp_path, monkeypatch):
    from dagster_project.cli import _publication_lines

    monkeypatch.setenv("LENDING_BI", str(tmp_path / "bi"))
    assert _publication_lines() == [f"No BI publication at {tmp_path / 'bi' / 'lending_bi.duckdb'}: publish the "
                                    "marts with `lending publish` (or run publish_job)."]
    (tmp_path / "bi" / "parquet").mkdir(parents=True)  # published once; the file was deleted since
    assert "The BI publication is missing" in _publication_lines()[0]
    assert "lending publish" in _publication_lines()[0]


def lending(tmp_path, *args: str, **env: str) -> tuple[int, str, float]:
    """`lending ...` in a fresh process, its folders under tmp_path unless env says otherwise."""
    import os

    folders = {"LENDING_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
               "LENDING_LANDING": str(tmp_path / "landing"), "LENDING_TAPES": str(tmp_path / "tapes"),
               "LENDING_BI": str(tmp_path / "bi")}
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "dagster_project.cli", *args], capture_output=True, text=True,
                         env={**os.environ, **folders, **env})
    return out.returncode, out.stdout + out.stderr, time.monotonic() - started


NO_WAREHOUSE = "no warehouse at {tmp}/data/warehouse.duckdb (set LENDING_WAREHOUSE, or `lending run` first)"


@pytest.mark.parametrize("args, message", [
    (["run", "--first", "2025-13-01", "--last", "2025-01-31"],
     "lending run: argument --first: '2025-13-01' is not a date: use YYYY-MM-DD"),
    (["run", "--first", "2025-02-01", "--last", "2025-01-31"], "lending run: --first 2025-02-01 is after --last 2025-01-31"),
    (["run", "--first", "2025-01-01"], "lending run: give both --first and --last, or neither (tapes and marts only)"),
    (["run", "--first", "2025-01-01", "--last", "2025-01-02"],
     "lending run: no landing folder {tmp}/landing (set LENDING_LANDING, or `lending generate`)"),
    (["release-day", "2025-01-05", "--reason", "checked"], "lending release-day: " + NO_WAREHOUSE),
    (["summary"], "lending summary: " + NO_WAREHOUSE),
    (["load-tape", "no-such-tape.csv"], "lending load-tape: no such file: no-such-tape.csv"),
])
def test_the_cli_refuses_bad_arguments_at_once_in_one_line(tmp_path, args, message):
    status, output, seconds = lending(tmp_path, *args)
    assert (status, output.strip()) == (2, message.format(tmp=tmp_path))
    assert seconds < 1.0


def test_a_run_over_days_that_have_not_landed_is_refused(tmp_path):
    for day in ("2025-01-01", "2025-01-03"):
        (tmp_path / "landing" / day).mkdir(parents=True)
    status, output, seconds = lending(tmp_path, "run", "--first", "2025-01-01", "--last", "2025-01-05")
    assert status == 2 and seconds < 1.0
    assert output.strip() == (f"lending run: no landing folder for 2025-01-02 and 2 more in {tmp_path / 'landing'}: "
                              "a missing day stops the aging of later days")


def test_a_warehouse_folder_that_cannot_be_created_is_refused(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    status, output, _ = lending(tmp_path, "run", LENDING_WAREHOUSE=str(tmp_path / "file" / "warehouse.duckdb"))
    assert (status, output.strip()) == (2, f"lending run: cannot create the warehouse folder {tmp_path / 'file'}: File exists")


@pytest.mark.parametrize("folder", ["landing", "tapes", "data/warehouse.duckdb"])
def test_the_demo_deletes_only_what_a_demo_created(tmp_path, folder):
    path = tmp_path / folder
    if folder.endswith(".duckdb"):
        path.parent.mkdir(parents=True)
        path.write_text("a lender's warehouse")
    else:
        (path / "2025-01-01").mkdir(parents=True)
    status, output, seconds = lending(tmp_path, "demo")
    assert status == 2 and seconds < 1.0
    assert output.strip().startswith(f"lending demo: {path} exists and no demo created it: the demo would delete it")
    assert path.exists()


def test_every_option_says_what_it_does_and_its_default():
    from dagster_project.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"run", "demo", "generate", "load-tape", "release-day", "publish", "summary"} <= set(commands)
    for name, command in commands.items():
        for action in command._actions:
            assert action.help, (name, action.dest)
    assert "(default: 80000)" in commands["demo"].format_help()
