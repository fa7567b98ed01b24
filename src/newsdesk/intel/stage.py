"""The stage runner: ``run_intel`` decides which entries each step sees (clustering, reading,
alert matching) and delivers the alerts that are due; ``intel_job`` runs it in a process of its
own."""

from __future__ import annotations

import time
from collections.abc import Sequence

from newsdesk.intel.reading import load_entity_extractor, read_entries
from newsdesk.intel.report import IntelReport, took
from newsdesk.settings import Settings
from newsdesk.store.protocols.intel import IntelStorage


def intel_wanted(settings: Settings) -> bool:
    """Whether any part of the stage is switched on."""
    return (
        settings.stories
        or settings.entities
        or settings.timelines
        or settings.alerts
        or settings.rules
    )


def _cluster(
    store: IntelStorage, settings: Settings, ids: Sequence[int] | None, report: IntelReport
) -> None:
    from newsdesk.stories.cluster import cluster_entries

    started = time.perf_counter()
    with store.clustering_lock():
        clustered = cluster_entries(store, settings, ids)
    took(report, "stories", started)
    report.clustered += clustered.entries
    report.joined += clustered.joined
    report.new_stories += clustered.new_stories


def _match(store: IntelStorage, ids: Sequence[int], report: IntelReport) -> None:
    from newsdesk.alerts import match_entries

    started = time.perf_counter()
    report.alerts_created += match_entries(store.alerts, ids)
    took(report, "alerts", started)


def _rules(store: IntelStorage, ids: Sequence[int], report: IntelReport) -> None:
    """Every person's rules on the new entries they see (issue 16), after their entities are
    read (``entity:`` conditions) and before watchlists match (a blocked entry raises no
    alert)."""
    rules = store.rules
    if rules is None:
        return
    from newsdesk.rules import apply_new

    started = time.perf_counter()
    done = apply_new(rules, ids)
    report.rules_changed += done.entries_changed
    took(report, "rules", started)


def run_intel(
    store: IntelStorage,
    settings: Settings,
    entry_ids: Sequence[int] | None,
    *,
    deliver: bool = True,
) -> IntelReport:
    """Run the stage on ``entry_ids``, or with None on the backlog: the entries never clustered
    and those whose text was not read (or was read by another model or extractor version).
    ``deliver`` False raises alerts without sending them (a caller that delivers itself)."""
    report = IntelReport()
    # First what a first import queued for the search index (its watchlists and rules search
    # it); with nothing queued, one query.
    started = time.perf_counter()
    report.indexed = store.index_queued_search()
    if report.indexed:
        took(report, "search index", started)
    extractor = load_entity_extractor(settings, report)
    if entry_ids is None:
        if settings.stories:
            _cluster(store, settings, None, report)
        for ids in store.all_entry_ids():
            done = read_entries(store, settings, ids, report, extractor)
            if settings.alerts and done:
                _match(store, done, report)
        report.entries = max(report.clustered, report.read)
    else:
        ids = list(entry_ids)
        report.entries = len(ids)
        if ids and settings.stories:
            _cluster(store, settings, ids, report)
        if ids:
            read_entries(store, settings, ids, report, extractor)
        if ids and settings.rules:
            _rules(store, ids, report)
        if ids and settings.alerts:
            _match(store, ids, report)
    if settings.alerts and deliver:
        from newsdesk.alerts import deliver_due

        delivery = deliver_due(store.alerts, settings)
        report.alerts_sent += delivery.sent
        report.alerts_failed += delivery.failed
    return report


def intel_job(url: str, settings: Settings, entry_ids: list[int] | None) -> IntelReport:
    """``run_intel`` in a process of its own (``newsdesk run``'s background job): the store is
    opened once per process."""
    from newsdesk.store.intel import open_intel

    return run_intel(open_intel(url), settings, entry_ids)
