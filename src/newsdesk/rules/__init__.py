"""A person's rules (issue 16): when an entry matches a query (docs/query.md), do actions —
``block``, ``read``, ``star``, ``tag:NAME``, ``category:NAME``, ``alert:WATCHLIST``.

``apply_new`` runs every person's enabled rules, in order, on the entries a refresh stored (the
intel stage calls it after reading entities and before matching watchlists, so a blocked entry
raises no alert); ``apply_rule`` runs one rule over the stored entries. The rules themselves
are kept and checked by ``newsdesk.store.rules``; the stage reaches the store through
``newsdesk.store.protocols.rules.RulesStorage``."""

from __future__ import annotations

from newsdesk.rules.actions import parse_actions
from newsdesk.rules.apply import RulesReport, apply_new, apply_rule

__all__ = ["RulesReport", "apply_new", "apply_rule", "parse_actions"]
