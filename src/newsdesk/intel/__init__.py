"""The intelligence stage, run after entries are stored and enriched: group them into stories,
read their entities and dated events, raise and deliver the alerts they match.

Each step is its own package (``stories``, ``entities``, ``timeline``, ``alerts``); this one
only decides which entries each step sees (``intel.stage``) and records what was read
(``intel.reading``, the ``entry_intel`` rows), so an entry is read again only when its text
changes (full text arriving later), the extractor moves on (``INTEL_VERSION``) or the entity
model changes. ``run_intel`` runs after ``newsdesk refresh``, in ``newsdesk run``'s scheduler,
in the Celery workers and from ``newsdesk intel`` for a backlog; ``intel.report`` holds what a
run reports.

The submodules import one another, never this package: it only re-exports them.
"""

from newsdesk.intel.reading import INTEL_VERSION, read_entries
from newsdesk.intel.report import IntelReport
from newsdesk.intel.stage import intel_job, intel_wanted, run_intel

__all__ = ["INTEL_VERSION", "IntelReport", "intel_job", "intel_wanted", "read_entries", "run_intel"]
