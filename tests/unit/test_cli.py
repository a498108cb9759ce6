"""The `lending` command: a killed run ends its children; the summary names a missing publication."""

import signal
import subprocess
import sys
import time

import pytest

from dagster_project.cli import descendants

PARENT = """
import subprocess, sys, time
from dagster_project.cli import end_children_with_the_run
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
