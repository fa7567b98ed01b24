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


def hold_turn(flag: str, seconds: float) -> None:
    """In a pool's worker: take the workers' shared lock, say so (``flag``, a file), hold it."""
    import time
    from pathlib import Path

    from newsdesk.pools import turns

    lock = turns()
    assert lock is not None
    with lock:
        Path(flag).touch()
        time.sleep(seconds)


def try_turn() -> bool:
    """In a pool's worker: whether the workers' shared lock is free (taken and given back)."""
    from newsdesk.pools import turns

    lock = turns()
    assert lock is not None
    if not lock.acquire(block=False):
        return False
    lock.release()
    return True
