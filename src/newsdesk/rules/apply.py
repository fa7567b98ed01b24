"""Applying rules: to the entries a refresh stored (``apply_new``, every person's rules), or to
the stored entries (``apply_rule``, one rule)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING

from newsdesk.errors import NewsdeskError
from newsdesk.util import chunks

if TYPE_CHECKING:
    from newsdesk.store.protocols.rules import RulesStorage
    from newsdesk.store.rules import Rule

log = logging.getLogger(__name__)
APPLY_CHUNK = 500  # entries acted on per transaction when a rule runs over the stored ones


@dataclass(slots=True)
class RulesReport:
    """What applying rules did: the rules that ran, and entries changed (by rule id)."""

    rules: int = 0
    changed: dict[int, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # rules whose query no longer holds
    seconds: float = 0.0

    @property
    def entries_changed(self) -> int:
        return sum(self.changed.values())


def _run(storage: RulesStorage, rule: Rule, among: Sequence[int] | None) -> int:
    hits = storage.matching(rule.user_id, rule.query, among)
    changed = 0
    for chunk in chunks(hits, APPLY_CHUNK):
        changed += storage.act(rule.user_id, rule.actions, chunk, rule.id)
    storage.add_matched(rule.id, changed)
    return changed


def apply_new(storage: RulesStorage, entry_ids: Sequence[int]) -> RulesReport:
    """Every person's enabled rules, in their order, on the new entries each person sees: a
    rule's actions are done before the next rule matches, so an entry the first blocks is
    out of the second's reach. One rule failing (a query an upgrade no longer reads) is
    logged and skipped; the others run. With no rule at all this is one query."""
    started = time.perf_counter()
    report = RulesReport()
    ids = sorted({int(i) for i in entry_ids})
    if not ids:
        return report
    every = storage.enabled_rules()
    for _person, theirs in groupby(every, key=lambda r: r.user_id):
        for rule in theirs:
            report.rules += 1
            try:
                changed = _run(storage, rule, ids)
            except NewsdeskError as exc:
                log.warning("rule %d (%s) skipped: %s", rule.id, rule.name, exc)
                report.failed.append(f"rule {rule.id}: {exc}")
                continue
            if changed:
                report.changed[rule.id] = changed
    report.seconds = time.perf_counter() - started
    return report


def apply_rule(storage: RulesStorage, rule: Rule) -> int:
    """One rule over every stored entry its person sees (and has not blocked); how many
    entries changed. A disabled rule applies too: applying is asked for."""
    return _run(storage, rule, None)
