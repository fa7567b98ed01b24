"""Story clustering: entries about one story, across feeds and kinds, grouped incrementally
after each refresh (see ``cluster``)."""

from __future__ import annotations

from newsdesk.stories.cluster import ClusterReport, cluster_entries

__all__ = ["ClusterReport", "cluster_entries"]
