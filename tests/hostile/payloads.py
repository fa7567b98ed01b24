"""Hostile feeds (RSS, Atom, JSON Feed) carrying XSS vectors in every field a feed controls:
content, summary, title, author, item link, feed link, enclosures, xml:base."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

HTML_VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">j1</a>',
    '<a href="JaVaScRiPt:alert(1)">j2</a>',
    '<a href="&#106;avascript:alert(1)">j3</a>',
    '<a href="&#x6A;avascript&#x3A;alert(1)">j4</a>',
    '<a href="javascript&colon;alert(1)">j5</a>',
    '<a href="java&#9;script:alert(1)">j6</a>',
    '<a href="jav&#x0A;ascript:alert(1)">j7</a>',
    '<a href=" &#14; javascript:alert(1)">j8</a>',
    '<a href="vbscript:msgbox(1)">v</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<svg onload=alert(1)><use href="data:image/svg+xml,&lt;svg id=x onload=alert(1)&gt;#x"/>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(2)">b</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">s</div>',
    '<p title="&quot;&gt;&lt;svg onload=alert(1)&gt;">t</p>',
    '<video poster="javascript:alert(1)" src="javascript:alert(2)"></video>',
    '<audio src="vbscript:x"><source src="javascript:alert(1)"></audio>',
    '<blockquote cite="javascript:alert(1)">q</blockquote>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<a href="https://ok.example/" onclick="alert(1)" target="_self">ok</a>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<x onmouseover=alert(1)>x</x>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<link rel=stylesheet href="javascript:alert(1)">',
    "<template><script>alert(1)</script></template>",
    '<table background="javascript:alert(1)"><tr><td>t</td></tr></table>',
    '<img srcset="javascript:alert(1) 1x">',
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)><summary>s</summary></details>",
    '<a href="#" onclick="alert(1)">hash</a>',
    "<xmp><script>alert(1)</script></xmp>",
    '<isindex action="javascript:alert(1)" type=image>',
    "<plaintext><script>alert(1)</script>",
]
TITLE_VECTORS = [
    '"><svg onload=alert(1)>',
    "<script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "'-alert(1)-'",
    "{{constructor.constructor('alert(1)')()}}",
    "&lt;img src=x onerror=alert(1)&gt;",
    "[click](javascript:alert(1))",
]
LINK_VECTORS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "&#106;avascript:alert(1)",
    "https://ok.example/a)[x](javascript:alert(1)",
    'https://ok.example/"><script>alert(1)</script>',
    "file:///etc/passwd",
]
ENCLOSURE_VECTORS = ["javascript:alert(1)", "vbscript:x", "data:audio/mp3;base64,AAAA", "file:///x"]
# Terminal escapes: an OSC 8 hyperlink, a screen clear, a bell; only JSON can carry them.
TERMINAL = "\u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007\u001b[2J\u0007\u009b31m"


def _pick(values: list[str], index: int) -> str:
    return values[index % len(values)]


def rss_feed() -> bytes:
    items = []
    for i, vector in enumerate(HTML_VECTORS):
        items.append(
            "<item>"
            f"<title>{escape(_pick(TITLE_VECTORS, i))} {i}</title>"
            f"<link>{escape(_pick(LINK_VECTORS, i))}</link>"
            f"<guid isPermaLink='false'>rss-{i}</guid>"
            f"<description>{escape('<p>summary</p>' + vector)}</description>"
            f"<content:encoded>{escape('<p>body ' + str(i) + '</p>' + vector)}</content:encoded>"
            f"<dc:creator>{escape(_pick(TITLE_VECTORS, i + 1))}</dc:creator>"
            f"<enclosure url={quoteattr(_pick(ENCLOSURE_VECTORS, i))} type='audio/mpeg' "
            "length='1'/>"
            f"<category>{escape(_pick(TITLE_VECTORS, i + 2))}</category>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(TITLE_VECTORS[0])} RSS</title>"
        "<link>javascript:alert(document.cookie)</link>"
        f"<description>{escape(HTML_VECTORS[0])}</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def atom_feed() -> bytes:
    entries = []
    for i, vector in enumerate(HTML_VECTORS):
        base = ' xml:base="javascript:alert(1)//"' if i % 3 == 0 else ""
        entries.append(
            f"<entry{base}>"
            f"<id>atom-{i}</id>"
            f'<title type="html">{escape(escape(_pick(TITLE_VECTORS, i)))} {i}</title>'
            f"<link rel='alternate' href={quoteattr(_pick(LINK_VECTORS, i + 3))}/>"
            f"<link rel='enclosure' href={quoteattr(_pick(ENCLOSURE_VECTORS, i))}/>"
            f"<author><name>{escape(_pick(TITLE_VECTORS, i + 4))}</name></author>"
            f'<summary type="html">{escape(vector)}</summary>'
            f'<content type="html">{escape("<p>atom body</p>" + vector + "<a href=rel>r</a>")}'
            "</content>"
            "<updated>2024-01-01T00:00:00Z</updated>"
            "</entry>"
        )
    entries.append(
        '<entry><id>atom-xhtml</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        "X<script>alert(1)</script></div></title>"
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        '<p>xhtml</p><svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)">'
        "<text>x</text></a></svg><script>alert(1)</script></div></content></entry>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title type="html">{escape(escape(TITLE_VECTORS[1]))} Atom</title>'
        "<link rel='alternate' href='javascript:alert(1)'/>"
        "<id>urn:x</id><updated>2024-01-01T00:00:00Z</updated>" + "".join(entries) + "</feed>"
    ).encode()


def json_feed() -> bytes:
    items = []
    for i, vector in enumerate(HTML_VECTORS):
        items.append(
            {
                "id": f"json-{i}",
                "title": f"{_pick(TITLE_VECTORS, i)} {i} {TERMINAL}",
                "url": _pick(LINK_VECTORS, i + 5),
                "external_url": "javascript:alert(1)",
                "content_html": f"<p>json body {i}</p>{vector}\u001b[2J",
                "summary": vector,
                "authors": [{"name": _pick(TITLE_VECTORS, i + 6) + TERMINAL}],
                "attachments": [{"url": _pick(ENCLOSURE_VECTORS, i), "mime_type": "audio/mpeg"}],
                "image": "javascript:alert(1)",
                "tags": [TITLE_VECTORS[0], TERMINAL],
                "date_published": "2024-01-01T00:00:00Z",
            }
        )
    items.append({"id": "json-text", "content_text": "plain <script>alert(1)</script> " + TERMINAL})
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": TITLE_VECTORS[0] + " JSON" + TERMINAL,
            "home_page_url": "javascript:alert(1)",
            "feed_url": "javascript:alert(2)",
            "items": items,
        }
    ).encode()
