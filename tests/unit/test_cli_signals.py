"""A killed `lending` ends its child processes (dbt) before it ends itself."""

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
