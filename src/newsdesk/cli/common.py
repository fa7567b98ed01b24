"""What every command module shares: the handler and factory types, settings and the Desk for
a command, JSON on stdout, the one-line error.

A command module exposes ``register(command: CommandFactory) -> None``: ``command(name, handler,
help)`` returns the sub-parser (which already has --db) to add arguments to. Command modules
import only the standard library and this module at the top; everything heavy (the Desk, the
store, the web app, Celery, spaCy) is imported inside the handlers, so `newsdesk --help` stays
fast."""

from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsdesk.desk import Desk
    from newsdesk.settings import Settings

Handler = Callable[[argparse.Namespace], int]
CommandFactory = Callable[[str, Handler, str], argparse.ArgumentParser]


def load(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The settings in effect for a command: ``--db`` (when given) over the environment."""
    from newsdesk.settings import load_settings

    overrides.setdefault("database_url", getattr(args, "db", None))
    return load_settings(**overrides)


def open_desk(args: argparse.Namespace, *, system: bool = False, **overrides: Any) -> Desk:
    """The Desk a command works through (close it when done): the desk of the person named by
    ``--user`` (default: the first admin, so a single-user desk works unchanged), or with
    ``system`` the system's (every feed, no one's state)."""
    with _collector_paused():
        from newsdesk.desk import Desk

    desk = Desk(load(args, **overrides))
    if system:
        return desk
    try:
        return desk.for_name(getattr(args, "user", None))
    except BaseException:
        desk.close()
        raise


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Importing the Desk and the store (SQLAlchemy) makes a few hundred thousand objects and no
    garbage: the cyclic garbage collector would walk them again and again for nothing (30 ms of
    every command that opens a desk). Not while opening it: a migration may make garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def user_option(parser: argparse.ArgumentParser, **kwargs: Any) -> None:
    """``--user NAME``: the person whose data a command reads or changes (default: the first
    admin). ``open_desk`` opens their desk; an unknown name is a clear error."""
    kwargs.setdefault("help", "act as this person (default: the first admin; `newsdesk user list`)")
    parser.add_argument("--user", metavar="NAME", **kwargs)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def err(message: str) -> None:
    sys.stderr.write(f"newsdesk: {message}\n")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_line(prompt: str) -> str:
    """A password or key: asked for without echo on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")
