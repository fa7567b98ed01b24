"""What every piece of ``SqlStore`` shares: the engine it runs on and its dialect."""

from __future__ import annotations

from sqlalchemy import Engine


class SqlBase:
    """The attributes ``SqlStore.__init__`` sets, declared for the pieces it is made of
    (``sql_feeds``, ``sql_entries``, ``sql_enrichment``, ``sql_refresh``)."""

    engine: Engine
    dialect: str
    # A feed subscribed without a category goes here (the Desk sets it from the settings).
    default_category: str
