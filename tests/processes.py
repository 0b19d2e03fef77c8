"""What a test needs to know about a process it started: its children and whether it runs.

Read from /proc (the tests run on Linux), so a test can check that a command left
no worker behind without depending on psutil.
"""

from __future__ import annotations

from pathlib import Path


def children_of(pid: int) -> set[int]:
    """The direct children of ``pid`` (every thread's list: forks may come from any)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            listed = (task / "children").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended while we looked: it has no children to give
        found.update(int(c) for c in listed.split())
    return found


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False
