"""Helpers for the tests that watch processes end (``/proc``, Linux)."""

from __future__ import annotations

from pathlib import Path


def gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped yet (a container's init may not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")
