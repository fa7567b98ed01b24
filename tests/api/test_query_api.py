"""The native API's ``search`` reads the query language (docs/query.md): the page and its
``total`` agree with the store, and a query that cannot be read is a 400 with the reason."""

from __future__ import annotations

from newsdesk.store import EntryQuery

from .conftest import ApiEnv


async def test_search_in_the_language(api_env: ApiEnv) -> None:
    client, auth, store = api_env.client, api_env.auth, api_env.desk.store
    word = store.list_entries(EntryQuery(limit=1))[0].title.split()[0]
    for query in (f"{word} kind:article", f"-{word} kind:post", f'title~"^{word}"'):
        answer = await client.get(
            "/api/entries", params={"search": query, "limit": 500}, headers=auth
        )
        assert answer.status_code == 200, answer.text
        found = answer.json()
        expected = store.matching_ids(query)
        assert found["total"] == len(expected) == store.count_matching(query)
        assert {e["id"] for e in found["entries"]} == set(expected)
    bad = await client.get("/api/entries", params={"search": 'title~"(a+"'}, headers=auth)
    assert bad.status_code == 400
    assert "invalid regular expression" in bad.json()["error"]["message"]
