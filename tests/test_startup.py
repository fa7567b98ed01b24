"""Start-up stays small (issue 17): a command's parse builds only its own module's parser, a
refresh imports only what a refresh uses, and a SQLite schema does not load the PostgreSQL
dialect for one index's option."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_mock_engine
from sqlalchemy.schema import CreateIndex

from newsdesk.cli.parser import COMMANDS, MODULES, _module, build_parser
from newsdesk.store import schema


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)  # type: ignore[arg-type]


def test_commands_name_the_module_that_registers_them() -> None:
    registered: dict[str, str] = {}
    for name in MODULES:

        def command(command: str, _handler: Any, _help: str, name: str = name) -> Any:
            registered[command] = name
            return argparse.ArgumentParser()

        _module(name).register(command)
    assert registered == COMMANDS


def test_a_command_line_parses_as_with_every_command() -> None:
    full = _subparsers(build_parser())
    for name in COMMANDS:
        alone = _subparsers(build_parser([name, "--db", "x"]))
        assert set(alone) <= set(full)
        assert alone[name].format_help() == full[name].format_help(), name
    assert set(_subparsers(build_parser(["--help"]))) == set(full)
    assert set(_subparsers(build_parser(["no-such-command"]))) == set(full)


def test_an_empty_refresh_imports_only_what_a_refresh_uses(tmp_path: Path) -> None:
    """The digest, the store's domain parts, the web app and the intelligence stages are not
    loaded by `newsdesk refresh`."""
    code = (
        "import sys\n"
        "from newsdesk.cli import main\n"
        f"assert main(['refresh', '--no-fulltext', '--db', {str(tmp_path / 'n.db')!r}]) == 0\n"
        "unused = ('newsdesk.publish', 'newsdesk.store.entities', 'newsdesk.store.sync', "
        "'newsdesk.store.labels', 'newsdesk.web', 'newsdesk.intel', 'newsdesk.stories', "
        "'starlette', 'celery', 'spacy', 'sqlalchemy.dialects.postgresql')\n"
        "found = sorted(m for m in sys.modules if m.startswith(unused))\n"
        "assert not found, found\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_hidden_states_index_is_partial_on_both_databases() -> None:
    made: list[str] = []

    def record(sql: Any, *_: Any, **__: Any) -> None:
        made.append(str(sql.compile(dialect=engine.dialect)))

    engine = create_mock_engine("postgresql+psycopg://", record)
    schema.HIDDEN_STATES.create(engine)
    assert made == [
        "CREATE INDEX ix_entry_states_hidden ON entry_states (user_id, entry_id) "
        "WHERE hidden IS true"
    ]
    sqlite = create_mock_engine("sqlite://", record)
    assert "WHERE hidden IS 1" in str(
        CreateIndex(schema.HIDDEN_STATES).compile(dialect=sqlite.dialect)
    )


def test_the_program_ends_without_teardown_and_loses_no_output(tmp_path: Path) -> None:
    """`newsdesk` leaves with ``os._exit`` after flushing and running the atexit functions:
    the output and the exit code are the command's."""
    db = f"sqlite:///{tmp_path / 'n.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk", "refresh", "--no-fulltext", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.startswith("0 feeds, 0 new entries"), done
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
        "from newsdesk.cli import main\n"
        "sys.argv = ['newsdesk', 'feeds', '--db', 'nosuchdb://x']\n"
        "main()\n"
        "print('not reached')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done
    assert "unsupported database" in done.stderr or "not a database URL" in done.stderr, done
    assert "atexit ran" in done.stderr and "not reached" not in done.stdout


def test_opening_a_desk_leaves_the_garbage_collector_on(tmp_path: Path) -> None:
    """The collector pauses while the Desk is imported, never longer."""
    import gc
    from contextlib import closing

    from newsdesk.cli.common import open_desk

    args = argparse.Namespace(db=f"sqlite:///{tmp_path / 'n.db'}", user=None)
    with closing(open_desk(args, system=True)):
        assert gc.isenabled()
    gc.disable()
    try:
        with closing(open_desk(args, system=True)):
            assert not gc.isenabled()  # a caller's choice stands
    finally:
        gc.enable()
