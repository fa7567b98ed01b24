"""Always-on refresh beyond the manual command: the single-process daemon (`newsdesk run`) and
distributed mode on Celery (`newsdesk worker`, `newsdesk beat`, `newsdesk queue`). Both are thin
layers over ``newsdesk.refresh.refresh_feeds`` and ``newsdesk.enrich.enrich_entries``."""
