"""The feed edit page's "How it is fetched" form (issue 16): options saved, secrets kept but
never put back in the page, bad input refused with its reason."""

from __future__ import annotations

from newsdesk.desk import Desk

from .session import Browser

COOKIE = "sid=web-cookie-secret"


async def test_the_edit_page_sets_options_and_hides_secrets(user: Browser, desk: Desk) -> None:
    feed = desk.store.list_feeds()[0]
    page = await user.get(f"/subscriptions/{feed.id}")
    assert page.status_code == 200 and "How it is fetched" in page.text
    saved = await user.post(
        f"/subscriptions/{feed.id}",
        {
            "section": "options",
            "user_agent": "Browser/1",
            "cookie": COOKIE,
            "fulltext": "on",
            "extract_body": "article",
            "extract_drop": ".ad\n.promo",
            "interval": "30m",
            "unwrap_redirects": "on",
        },
    )
    assert saved.status_code == 303, saved.text
    shown = await user.get(saved.headers["location"])
    assert "Saved." in shown.text and COOKIE not in shown.text
    assert "set: leave empty to keep it" in shown.text and 'value="30m"' in shown.text
    stored = desk.store.get_feed(feed.id)
    assert stored.options.user_agent == "Browser/1" and stored.options.fulltext is True
    assert stored.options.extract_drop == (".ad", ".promo") and stored.check_interval == 1800
    assert stored.options.unwrap_redirects and "cookie" in stored.options.sealed
    # Saved again with the cookie field empty: the cookie stays; "forget" clears it.
    await user.post(f"/subscriptions/{feed.id}", {"section": "options", "fulltext": "default"})
    assert "cookie" in desk.store.get_feed(feed.id).options.sealed
    await user.post(f"/subscriptions/{feed.id}", {"section": "options", "forget_cookie": "on"})
    assert desk.store.get_feed(feed.id).options.sealed == ()


async def test_bad_options_are_refused_with_their_reason(user: Browser, desk: Desk) -> None:
    feed = desk.store.list_feeds()[0]
    bad = await user.post(
        f"/subscriptions/{feed.id}", {"section": "options", "extract_body": "div["}
    )
    assert bad.status_code == 400 and "bad CSS selector" in bad.text
