"""What applying rules (``newsdesk.rules``) needs of the store.

``SqlStore.rules`` (``newsdesk.store.rules.RuleStore``) implements it on the database. Nothing
here imports SQLAlchemy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from newsdesk.store.rules import Rule

__all__ = ["RulesStorage"]


class RulesStorage(Protocol):
    """Every person's enabled rules, which entries a rule's query takes for its person, and
    carrying its actions out."""

    def enabled_rules(self) -> list[Rule]:
        """By person, then position (one query: none is the usual case)."""
        ...

    def matching(self, person_id: int, query: str, among: Sequence[int] | None = None) -> list[int]:
        """The entries the person sees and has not blocked that ``query`` matches (among
        ``among`` when given)."""
        ...

    def act(
        self,
        person_id: int,
        actions: Sequence[str],
        ids: Sequence[int],
        rule_id: int | None = None,
    ) -> int:
        """Carry ``actions`` out for the person on ``ids``; how many entries changed."""
        ...

    def add_matched(self, rule_id: int, count: int) -> None: ...
