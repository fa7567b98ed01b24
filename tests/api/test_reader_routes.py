"""The reader APIs (Google Reader, Miniflux, Fever) declare module-level handlers on one route
table each: no handler is a closure, no path and method is declared twice, and the Google Reader
modules import each other one way only."""

from __future__ import annotations

import subprocess
import sys

import pytest

from newsdesk.web.api import fever, greader, miniflux
from newsdesk.web.routing import RouteTable


@pytest.mark.parametrize("module", [greader, miniflux, fever])
def test_handlers_are_module_level_and_declared_once(module: object) -> None:
    table = module.TABLE  # type: ignore[attr-defined]
    assert isinstance(table, RouteTable)
    seen: set[tuple[str, str]] = set()
    for declared in table.declared:
        assert "<locals>" not in declared.handler.__qualname__, declared.handler
        for method in declared.methods:
            assert (declared.path, method) not in seen, (declared.path, method)
            seen.add((declared.path, method))


def test_literal_paths_come_before_the_parametrised_ones_they_would_match() -> None:
    paths = [d.path for d in miniflux.TABLE.declared]
    assert paths.index("/v1/feeds/counters") < paths.index("/v1/feeds/{feed_id}")
    assert paths.index("/v1/entries/ids") < paths.index("/v1/entries/{entry_id}")


def test_greader_tags_does_not_import_greader() -> None:
    code = (
        "import sys, newsdesk.web.api.greader_tags; "
        "print('newsdesk.web.api.greader' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "False"
