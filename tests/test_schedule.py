"""The scheduler's pure functions, with a fixed clock and seeded randomness."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from newsdesk import schedule
from newsdesk.schedule import Hints
from newsdesk.settings import Settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
S = Settings()  # min 5 min, max 24 h, max error backoff 24 h


def wait(**kwargs: object) -> float:
    rng = random.Random(7)
    when = schedule.next_check(NOW, S, rng=rng, **kwargs)  # type: ignore[arg-type]
    return (when - NOW).total_seconds()


def test_busy_feeds_are_checked_more_often_than_quiet_ones() -> None:
    busy = wait(entries_per_day=48.0)  # one entry every 30 min
    normal = wait(entries_per_day=4.0)
    quiet = wait(entries_per_day=0.2)
    assert busy < normal < quiet
    assert busy == pytest.approx(1800, rel=0.1)
    assert normal == pytest.approx(6 * 3600, rel=0.1)
    assert quiet == S.max_interval  # five days between entries → capped at 24 h


def test_bounds_are_settings() -> None:
    assert wait(entries_per_day=10_000.0) == S.min_interval
    # nothing in the window: quiet, checked about daily (jitter only ever shortens the cap)
    assert S.max_interval * 0.9 <= wait(entries_per_day=0.0) <= S.max_interval
    tight = Settings(min_interval=60, max_interval=600)
    assert schedule.next_interval(NOW, tight, entries_per_day=10_000.0) == 60
    assert schedule.next_interval(NOW, tight, entries_per_day=0.01) == 600


def test_unknown_activity_is_hourly_with_jitter() -> None:
    assert 3600 * 0.9 <= wait(entries_per_day=None) <= 3600 * 1.1


def test_jitter_spreads_feeds_added_together() -> None:
    rng = random.Random(1)
    times = [schedule.next_check(NOW, S, entries_per_day=24.0, rng=rng) for _ in range(200)]
    seconds = sorted((t - NOW).total_seconds() for t in times)
    assert len(set(seconds)) == 200
    assert seconds[0] >= 3600 * 0.9 and seconds[-1] <= 3600 * 1.1
    assert seconds[-1] - seconds[0] > 3600 * 0.15  # actually spread, not bunched


def test_seeded_randomness_is_reproducible() -> None:
    a = schedule.next_check(NOW, S, entries_per_day=3.0, rng=random.Random(42))
    b = schedule.next_check(NOW, S, entries_per_day=3.0, rng=random.Random(42))
    assert a == b


def test_rss_ttl_stretches_the_interval() -> None:
    assert wait(entries_per_day=48.0, hints=Hints(ttl_minutes=180)) == pytest.approx(
        3 * 3600, rel=0.1
    )
    # a ttl shorter than the activity interval does not make us poll more often
    assert 86400 * 0.9 <= wait(entries_per_day=1.0, hints=Hints(ttl_minutes=5)) <= 86400


def test_cache_control_max_age_and_expires() -> None:
    assert schedule.max_age_seconds("public, max-age=7200") == 7200
    assert schedule.max_age_seconds('s-maxage="60", max-age=7200') is not None
    assert schedule.max_age_seconds("no-cache, max-age=7200") is None
    assert schedule.max_age_seconds("max-age=0") is None
    assert schedule.max_age_seconds("private") is None
    assert wait(entries_per_day=48.0, hints=Hints(cache_control="max-age=7200")) == (
        pytest.approx(7200, rel=0.1)
    )
    expires = format_datetime(NOW + timedelta(hours=5), usegmt=True)
    assert wait(entries_per_day=48.0, hints=Hints(expires=expires)) == pytest.approx(
        5 * 3600, rel=0.1
    )
    # max-age wins over Expires, as in HTTP caching
    both = Hints(cache_control="max-age=3600", expires=expires)
    assert schedule.hinted_interval(both, NOW) == 3600
    # Expires in the past or unreadable: no hint
    past = format_datetime(NOW - timedelta(hours=5), usegmt=True)
    assert schedule.hinted_interval(Hints(expires=past), NOW) is None
    assert schedule.hinted_interval(Hints(expires="tomorrow-ish"), NOW) is None


@pytest.mark.parametrize(
    "hints",
    [
        Hints(ttl_minutes=0),
        Hints(cache_control="max-age=1"),
        Hints(expires=format_datetime(NOW + timedelta(seconds=1), usegmt=True)),
        Hints(status=429, retry_after="1"),
    ],
)
def test_a_server_asking_for_every_second_gets_the_minimum(hints: Hints) -> None:
    assert wait(entries_per_day=100_000.0, hints=hints) == S.min_interval


@pytest.mark.parametrize(
    "hints",
    [
        Hints(ttl_minutes=10**12),
        Hints(cache_control="max-age=999999999999"),
        Hints(expires="Fri, 31 Dec 9999 23:59:59 GMT"),
    ],
)
def test_absurdly_long_hints_are_capped_at_the_maximum(hints: Hints) -> None:
    assert wait(entries_per_day=48.0, hints=hints) == S.max_interval


def test_retry_after_in_seconds_or_http_date() -> None:
    assert schedule.retry_after_seconds("120", NOW) == 120
    date = format_datetime(NOW + timedelta(minutes=90), usegmt=True)
    assert schedule.retry_after_seconds(date, NOW) == 90 * 60
    assert schedule.retry_after_seconds("soon", NOW) is None
    assert schedule.retry_after_seconds("", NOW) is None
    assert schedule.retry_after_seconds(format_datetime(NOW - timedelta(1), usegmt=True), NOW) is (
        None
    )
    assert schedule.retry_after_seconds("9" * 40, NOW) == pytest.approx(10 * 365 * 86400)


def test_retry_after_counts_only_on_429_and_503() -> None:
    assert schedule.hinted_interval(Hints(status=200, retry_after="7200"), NOW) is None
    assert schedule.hinted_interval(Hints(status=503, retry_after="7200"), NOW) == 7200
    # a 429 with Retry-After: 2 h waits 2 h even on the first error
    assert wait(error_count=1, hints=Hints(status=429, retry_after="7200")) == 7200
    # … and an absurd Retry-After is capped at max_error_backoff
    assert wait(error_count=1, hints=Hints(status=503, retry_after="99999999")) == (
        S.max_error_backoff
    )


def test_errors_back_off_exponentially_with_jitter_and_a_cap() -> None:
    waits = [wait(error_count=n) for n in range(1, 12)]
    assert S.min_interval <= waits[0] <= S.min_interval * 1.2
    for earlier, later in itertools.pairwise(waits[:7]):
        assert later > earlier * 1.4  # roughly doubling, despite ±20 % jitter
    assert waits[-1] == S.max_error_backoff
    assert max(waits) <= S.max_error_backoff
    # jitter: different feeds failing together do not retry together
    rng = random.Random(3)
    spread = {schedule.error_backoff(4, S, rng) for _ in range(50)}
    assert len(spread) == 50
    assert min(spread) >= S.min_interval * 8 * 0.8 and max(spread) <= S.min_interval * 8 * 1.2


def test_backoff_never_below_the_minimum_even_with_a_small_cap() -> None:
    odd = Settings(min_interval=600, max_error_backoff=60)
    assert schedule.next_interval(NOW, odd, error_count=1) == 600


def test_per_feed_override_wins_but_respects_the_minimum() -> None:
    assert wait(entries_per_day=0.1, interval_override=900) == 900
    assert wait(entries_per_day=0.1, interval_override=10, hints=Hints(ttl_minutes=600)) == (
        S.min_interval
    )
    # errors still back off for an overridden feed
    assert wait(error_count=6, interval_override=900) > 900


def test_entries_per_day_from_observed_dates() -> None:
    every_hour = [NOW - timedelta(hours=h) for h in range(1, 49)]
    assert schedule.entries_per_day(every_hour, NOW) == pytest.approx(24, rel=0.05)
    old = [NOW - timedelta(days=100 + d) for d in range(10)]
    assert schedule.entries_per_day(old, NOW) == 0.0
    assert schedule.entries_per_day([], NOW) == 0.0
    future = [NOW + timedelta(days=3)] * 3
    assert schedule.entries_per_day(future, NOW) == 3.0  # skewed clocks count as now, span ≥1 d


def test_describe_wait() -> None:
    assert schedule.describe_wait(45) == "45 s"
    assert schedule.describe_wait(12 * 60 + 5) == "12 min"
    assert schedule.describe_wait(3 * 3600 + 20 * 60) == "3 h 20 min"
    assert schedule.describe_wait(2 * 86400 + 4 * 3600) == "2 d 4 h"
