"""What each pipeline stage needs of the store, as ``typing.Protocol``s a fake can implement:
``refresh`` (``Storage``: refresh and enrich), ``intel`` (``IntelStorage``: stories, entities,
timelines) and ``alerts`` (``AlertsStorage``: watchlist matching and delivery). ``SqlStore``
implements the first, its ``intel`` and ``alerts`` parts the others; the tests' fakes
(``tests/fakes/``) implement each on plain dicts and lists."""
