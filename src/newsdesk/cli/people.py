"""The desk's people (issue 15): `newsdesk user add NAME [--role admin|member]`, `user list
[--json]`, `user remove NAME`, `user set-role NAME ROLE`, `user set-password [--username NAME]`
and `user fever on|off [--username NAME]` (default: the first admin). A password is asked for
without echo (twice) on a terminal, else read from the first line of standard input."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from typing import TYPE_CHECKING

from newsdesk.cli.common import CommandFactory, open_desk, print_json, read_line
from newsdesk.errors import NewsdeskError

if TYPE_CHECKING:
    from newsdesk.desk import Desk
    from newsdesk.store.users import User


def _read_password(prompt: str) -> str:
    """A new password: asked for twice on a terminal, else the first line of stdin."""
    password = read_line(prompt)
    if sys.stdin.isatty():
        import getpass

        if getpass.getpass("Again: ") != password:
            raise NewsdeskError("the two passwords differ")
    return password


def _when(user: User) -> tuple[str, str]:
    created = user.created_at.strftime("%Y-%m-%d %H:%M")
    last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
    return created, last


def _list(args: argparse.Namespace, desk: Desk) -> None:
    people = desk.store.users.list_users()
    if args.json:
        print_json([u.as_dict() for u in people])
        return
    width = max((len(u.username) for u in people), default=4)
    print(f"{'NAME':<{width}}  ROLE    CREATED           LAST LOGIN")
    for u in people:
        created, last = _when(u)
        notes = [
            note
            for note, on in (
                ("no password yet", not u.has_password),
                ("two-factor", u.two_factor),
                ("Fever on", u.fever),
            )
            if on
        ]
        extra = f"  ({', '.join(notes)})" if notes else ""
        print(f"{u.username:<{width}}  {u.role:<6}  {created}  {last}{extra}")


def _set_password(args: argparse.Namespace, desk: Desk) -> None:
    from newsdesk.store.server_key import server_key

    name = args.username or desk.store.users.person(None).username
    password = _read_password(f"New password for {name}: ")
    desk.store.users.set_password(name, password, server_key=server_key(desk.settings))
    print(f"password set for {name}")


def _fever(args: argparse.Namespace, desk: Desk) -> None:
    from newsdesk.store.server_key import server_key

    users = desk.store.users
    name = users.person(args.username).username
    if args.state == "off":
        users.set_fever(name, on=False)
        print(f"Fever API off for {name}")
        return
    password = read_line(f"Password of {name} (Fever's key is made from it): ")
    users.set_fever(name, on=True, password=password, server_key=server_key(desk.settings))
    print(
        f"Fever API on for {name}: in the client, the server is /fever/, "
        "the e-mail the user name, and the password this password"
    )


def cmd_user(args: argparse.Namespace) -> int:
    with closing(open_desk(args, system=True)) as desk:
        users = desk.store.users
        if args.action == "add":
            added = users.add_user(
                args.name, _read_password(f"Password for {args.name}: "), args.role
            )
            print(f"added {added.username} ({added.role})")
        elif args.action == "list":
            _list(args, desk)
        elif args.action == "remove":
            gone = users.remove_user(args.name)
            print(f"removed {gone.username} and their private data")
        elif args.action == "set-role":
            changed = users.set_role(args.name, args.role)
            print(f"{changed.username} is now {changed.role}")
        elif args.action == "set-password":
            _set_password(args, desk)
        else:
            _fever(args, desk)
    return 0


def _username(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--username",
        "--user",
        dest="username",
        metavar="NAME",
        help="the person (default: the first admin)",
    )


def register(command: CommandFactory) -> None:
    p = command(
        "user",
        cmd_user,
        "the desk's people: `user add NAME`, `list`, `remove NAME`, `set-role NAME ROLE`, "
        "`set-password`, `fever on|off`",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help_text, description=help_text)

    add = action("add", "add a person (the password is read from stdin when it is not a terminal)")
    add.add_argument("name", metavar="NAME", help="their user name (no spaces)")
    add.add_argument(
        "--role",
        choices=("admin", "member"),
        default="member",
        help="admin: manages people and settings (default: member)",
    )
    listing = action("list", "the people: name, role, created, last login")
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = action(
        "remove",
        "remove a person and their private data; a feed stays while anyone follows it "
        "(the last admin stays)",
    )
    remove.add_argument("name", metavar="NAME")
    role = action("set-role", "make a person an admin or a member (the last admin stays)")
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", metavar="ROLE", choices=("admin", "member"), help="admin or member")
    password = action("set-password", "set a person's password (a new name is added as a member)")
    _username(password)
    fever = action("fever", "turn the Fever API on (asks for the password) or off for a person")
    fever.add_argument("state", choices=("on", "off"))
    _username(fever)
    for sub in (add, listing, remove, role, password, fever):
        sub.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help="database URL")
