"""`newsdesk digest --mail-to`: a multipart (text + HTML) message delivered to a real SMTP
server (aiosmtpd) on loopback, with and without login; clear errors otherwise."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from newsdesk.demo import SEED_FEEDS
from newsdesk.demo.server import SampleServer


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"mailer" and data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def db(cli: Any, tmp_path: Path, seed_server: SampleServer) -> str:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    for path in SEED_FEEDS:
        assert cli("add", seed_server.base + path, "--db", url).code == 0
    assert cli("refresh", "--no-fulltext", "--db", url).code == 0
    return url


def test_digest_by_mail(
    cli: Any, db: str, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    monkeypatch.setenv("NEWSDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSDESK_SMTP_PORT", str(port))
    monkeypatch.setenv("NEWSDESK_SMTP_SECURITY", "none")
    monkeypatch.setenv("NEWSDESK_SMTP_USER", "mailer")
    monkeypatch.setenv("NEWSDESK_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("NEWSDESK_MAIL_FROM", "desk@example.org")
    result = cli(
        "digest", "--mail-to", "me@example.org", "--mail-to", "you@example.org", "--db", db
    )
    assert result.code == 0, result.err
    assert "digest sent to me@example.org, you@example.org" in result.out
    assert len(inbox.messages) == 1
    sender, recipients, message = inbox.messages[0]
    assert sender == "desk@example.org"
    assert recipients == ["me@example.org", "you@example.org"]
    assert message["Subject"].startswith("Newsdesk digest")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    expected_text = cli("digest", "--db", db).out
    got = [line.rstrip() for line in text.get_content().strip().splitlines()]
    assert got == [line.rstrip() for line in expected_text.strip().splitlines()]
    assert "<h1>Digest</h1>" in html.get_content()

    # A wrong password is a clear error, and nothing is delivered.
    monkeypatch.setenv("NEWSDESK_SMTP_PASSWORD", "wrong")
    result = cli("digest", "--mail-to", "me@example.org", "--db", db)
    assert result.code == 1 and "refused the login" in result.err
    assert len(inbox.messages) == 1


def test_mail_errors_are_clear(cli: Any, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli("digest", "--mail-to", "me@example.org", "--db", db)
    assert result.code == 1 and "NEWSDESK_SMTP_HOST" in result.err
    monkeypatch.setenv("NEWSDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSDESK_SMTP_PORT", str(_free_port()))
    monkeypatch.setenv("NEWSDESK_MAIL_FROM", "desk@example.org")
    result = cli("digest", "--mail-to", "not an address", "--db", db)
    assert result.code == 1 and "not an e-mail address" in result.err
    result = cli("digest", "--mail-to", "me@example.org", "--db", db)
    assert result.code == 1 and "cannot reach the SMTP server" in result.err
    monkeypatch.setenv("NEWSDESK_SMTP_SECURITY", "tls-please")
    result = cli("digest", "--mail-to", "me@example.org", "--db", db)
    assert result.code == 1 and "NEWSDESK_SMTP_SECURITY" in result.err


def test_starttls_refused_by_plain_server(
    cli: Any, db: str, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _inbox, port = smtp
    monkeypatch.setenv("NEWSDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSDESK_SMTP_PORT", str(port))
    monkeypatch.setenv("NEWSDESK_MAIL_FROM", "desk@example.org")
    result = cli("digest", "--mail-to", "me@example.org", "--db", db)  # starttls by default
    assert result.code == 1 and "does not offer STARTTLS" in result.err
