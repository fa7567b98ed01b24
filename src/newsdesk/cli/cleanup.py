"""Retention (issue 16): `newsdesk cleanup [--keep-days N] [--dry-run] [--json]` removes what
every follower's policy lets go; `newsdesk retention` shows or sets a person's default policy;
the flags `--keep-days/--keep-read-days/--keep-last` (and `--retention-default`) of `newsdesk
feeds FEED` set their policy for one feed (``retention_flags``, ``change_feed_retention``).
Heavy modules are imported inside the handlers."""

from __future__ import annotations

import argparse
from contextlib import closing
from typing import TYPE_CHECKING, Any

from newsdesk.cli.common import CommandFactory, open_desk, print_json, user_option

if TYPE_CHECKING:
    from newsdesk.desk import Desk

_OFF = ("off", "none")
_FLAGS = {
    "keep_days": "--keep-days",
    "keep_read_days": "--keep-read-days",
    "keep_last": "--keep-last",
}


class _Unset:
    def __repr__(self) -> str:
        return "unset"


_UNSET: Any = _Unset()


def _limit(raw: str) -> int | None:
    """A positive whole number, or ``off`` (no such limit)."""
    if raw.strip().lower() in _OFF:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number or off, not {raw!r}")
    return value


def _days(raw: str) -> int:
    value = _limit(raw)
    if value is None:
        raise argparse.ArgumentTypeError("expected a positive whole number of days")
    return value


def _given(args: argparse.Namespace) -> dict[str, int | None]:
    """The limits named on the command line (a key present: set it; None: lift it)."""
    return {key: getattr(args, key) for key in _FLAGS if getattr(args, key) is not _UNSET}


def retention_flags(
    parser: argparse.ArgumentParser, *, reset: str, reset_help: str, title: str
) -> None:
    """``--keep-days N``, ``--keep-read-days N``, ``--keep-last M`` (each also ``off``), and
    ``reset`` (an option name) to drop them all."""
    group = parser.add_argument_group(title)
    group.add_argument(
        "--keep-days",
        type=_limit,
        default=_UNSET,
        metavar="N|off",
        help="keep entries N days after they were first seen",
    )
    group.add_argument(
        "--keep-read-days",
        type=_limit,
        default=_UNSET,
        metavar="N|off",
        help="keep entries you have read N days (instead of --keep-days)",
    )
    group.add_argument(
        "--keep-last",
        type=_limit,
        default=_UNSET,
        metavar="M|off",
        help="keep the feed's newest M entries",
    )
    group.add_argument(reset, action="store_true", dest="retention_reset", help=reset_help)


def wants_feed_retention(args: argparse.Namespace) -> bool:
    return bool(_given(args)) or bool(getattr(args, "retention_reset", False))


def change_feed_retention(desk: Desk, feed_id: int, args: argparse.Namespace) -> str | None:
    """Apply the flags of `newsdesk feeds FEED` to the person's policy for that feed; the
    policy in words when something changed."""
    from newsdesk.store.retention import describe

    if not wants_feed_retention(args):
        return None
    part = desk.store.retention
    policy = {} if args.retention_reset else part.feed(feed_id)
    stored = part.set_feed(feed_id, {**policy, **_given(args)})
    effective = part.effective(feed_id).as_dict()
    own = describe(stored) if stored else "your default"
    return f"retention of feed {feed_id}: {own} (in effect: {describe(_set(effective))})"


def _set(policy: dict[str, int | None]) -> dict[str, int | None]:
    return {k: v for k, v in policy.items() if v is not None}


def cmd_retention(args: argparse.Namespace) -> int:
    from newsdesk.store.retention import describe

    with closing(open_desk(args)) as desk:
        part = desk.store.retention
        default = part.default()
        if args.retention_reset or _given(args):
            base = {} if args.retention_reset else default
            default = part.set_default({**base, **_given(args)})
        feeds = part.feeds()
    if args.json:
        print_json({"default": default, "feeds": {str(k): v for k, v in feeds.items()}})
        return 0
    print(f"default: {describe(default)}")
    for feed_id, policy in feeds.items():
        print(f"feed {feed_id}: {describe(policy)}")
    return 0


def _size(count: int) -> str:
    return f"{count / 1_048_576:,.1f} MiB"


def cmd_cleanup(args: argparse.Namespace) -> int:
    with closing(open_desk(args, system=True)) as desk:
        report = desk.cleanup(keep_days=args.keep_days, dry_run=args.dry_run)
    if args.json:
        print_json({**report.as_dict(), "keep_days": args.keep_days})
        return 0
    verb = "would remove" if report.dry_run else "removed"
    line = f"{verb} {report.removed:,} entries from {len(report.feeds)} feeds"
    if report.kept_starred:
        line += f" ({report.kept_starred:,} kept: starred, or in a story with a starred entry)"
    print(line)
    if report.stories_changed:
        print(f"stories: {report.stories_changed:,} changed, {report.stories_removed:,} removed")
    if report.space is not None and report.space.mode != "none":
        space = report.space
        print(
            f"database: {_size(space.bytes_before)} → {_size(space.bytes_after)} "
            f"({'incremental vacuum' if space.mode == 'incremental' else 'VACUUM'})"
        )
    return 0


def register(command: CommandFactory) -> None:
    p = command(
        "cleanup",
        cmd_cleanup,
        "remove the entries every follower's retention lets go (never starred ones, nor "
        "stories holding one); removed entries do not come back with the next fetch",
    )
    p.add_argument(
        "--keep-days",
        type=_days,
        metavar="N",
        help="for this run, everyone keeps entries N days (their read and count limits stay)",
    )
    p.add_argument("--dry-run", action="store_true", help="count what would go, remove nothing")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")

    p = command(
        "retention",
        cmd_retention,
        "show or set your default retention (per feed: `newsdesk feeds FEED --keep-days N`); "
        "the default keeps everything",
    )
    retention_flags(
        p,
        reset="--reset",
        reset_help="drop every limit: keep everything (your feeds' own limits stay)",
        title="your default policy",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    user_option(p)
