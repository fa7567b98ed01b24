"""Boilerplate rules for full-text extraction.

They act mostly on what the extractor returned, where a share bar, a "related" list or a menu is
recognised by what it is (short, mostly link text, a known widget phrase), never on the page before
extraction by its class names: "share", "related", "comments", "ads" sit on article containers too
often (``<article class="post-share-wrapper">``). Before extraction only elements that cannot be
anything but widgets go, recognised by what they are, not by what they are called.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

from lxml import etree
from lxml import html as lxml_html

# Elements that can only be widgets, whatever their class: script buttons dressed as links (print,
# share) and dialogs (cookie and newsletter pop-ups).
_WIDGETS = etree.XPath(
    "//body//a[@onclick][not(@href) or normalize-space(@href)='#' or normalize-space(@href)='']"
    " | //body//*[@role='dialog' or @role='alertdialog']"
)
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "dd", "dt")
# Whole blocks that are a widget's label or a pointer elsewhere ("read also", "back to top"), in
# the languages of our users' feeds; dropped only when the block is short, so a sentence of the
# article that happens to start so is kept.
_PHRASE = re.compile(
    r"^\W*(share (this|on|via)|share$|print( this)?( article| page)?$|print friendly|"
    r"leave a (reply|comment)|recent posts|related (posts|articles|stories|content)|read more$|"
    r"(also read|read also|see also|you (may|might) also like|more on this|more from)\b|"
    r"sign up (for|to)|subscribe (to|now)|all rights reserved|we use cookies|advertisement$|"
    r"skip (to|next)|back to top|"
    r"(lesen sie auch|lesen sie mehr|mehr zum thema|das könnte sie auch interessieren|"
    r"zurück nach oben|nach oben|anzeige$|werbung$|weitere artikel|auch interessant)|"
    r"(à lire aussi|lire aussi|voir aussi|publicité$)|"
    r"(lee también|leer también|te puede interesar|publicidad$)|"
    r"(leggi anche)|(czytaj (też|także|również))|(leia também)|(lees ook)|"
    # comment and "most read" boxes, log-in prompts, contact lines of a press release
    r"((view|show|no|\d+) comments?|(keine|\d+) kommentare?|kommentar schreiben|"
    r"most (read|popular|viewed|commented)|meist(gelesen|-?diskutiert|kommentiert)|"
    r"kommentierte artikel|lo más leído|más leíd[ao]s|les plus lus)$|"
    r"(you must be |please )?log(ged)? ?in to (comment|reply|post)|"
    r"(sie sind )?(aktuell |derzeit )?nicht eingeloggt|"
    r"((press|media) contacts?|pressekontakt|ansprechpartner(in)?( zum thema)?)\W*$|"
    r"(tel(efon|ephone)?|phone|fax|e-?mail)\s*[:.]\s*[+\d(][\d ()/+-]{5,}$)",
    re.I,
)
# A disclosure: the page's affiliate links or advertising, a disclaimer of liability.
_DISCLOSURE = re.compile(
    r"\baffiliate[- ]?links?\b|\b(enthält|contains) (werbung|affiliate|sponsored|paid)|"
    r"\bwe (may )?(earn|receive) (a )?(small )?(commission|compensation)|"
    r"\b(alle angaben|all information) (ohne gewähr|without guarantee)|provisionslinks?\b|"
    r"\bsponsored (post|content)\b",
    re.I,
)
# A credit line: who took the picture or where the text came from, with little else.
_CREDIT = re.compile(
    r"^\W*((photo|foto|fot\.|bild|image|credit|crédit|quelle|source|fuente|zdjęcie|©|\(c\))s?"
    r"\s*[:.©/]|(photo |image )?credits?\s*[:(]|crédits? photos?\s*:|copyright\b|bildquelle)",
    re.I,
)
# A pointer to another article: a "read also" label, a colon, and that article's headline.
_POINTER = re.compile(
    r"^\W*(read more|read also|also read|see also|related|more|lea( también| más)?|lee también|"
    r"vea también|ver también|mira|(le|te) puede interesar|lesen sie (auch|mehr)|mehr zum thema|"
    r"(zum )?weiterlesen|auch interessant|à lire (aussi|également)|lire aussi|voir aussi|"
    r"leia (também|mais)|veja também|leggi anche|czytaj (też|także|również)|lees ook|"
    r"lue (myös|aiheesta lisää))\s*:",
    re.I,
)
# A call to follow, subscribe or download, the same under every article of a site.
_CALL = re.compile(
    r"\b(follow (us|the [\w.]+) on (twitter|facebook|instagram|telegram|linkedin|tiktok)|"
    r"(download|get) (the|our) [\w .'’-]{0,40}\bapps?\b|app (store|for ios)|"
    r"(sign up|subscribe|register)( here| now| for| to)|newsletter|"
    r"(canal|channel) (de|on|en) (telegram|youtube|whatsapp)|nuestro canal|únete|suscríbete|"
    r"hazte (miembro|socio)|become a (member|subscriber)|support (our|independent) journalism|"
    r"abonnieren|jetzt (abonnieren|anmelden|bestellen)|im abo\b|e-paper)",
    re.I,
)
# A date or an "updated" stamp on its own.
_STAMP = re.compile(
    r"^\W*((last )?(updated|modified)( on| at)?|last modified|published( on)?|release date|"
    r"(zuletzt )?aktualisiert( am)?|letzte änderung|stand|veröffentlicht( am)?|"
    r"actualizado|publicado|mis à jour|publié le)?\s*:?\s*"
    r"(\d{1,4}[./-]\s?\d{1,2}[./-]\s?\d{2,4}|\d{1,2}\.? \w+ \d{4}|\w+ \d{1,2},? \d{4})?"
    r"[\s,|]*(\d{1,2}[:.]\d{2}( ?uhr| ?[ap]m)?)?\W*$",
    re.I,
)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LEAF_TAGS = (*_BLOCKS, "div", "figcaption", "img")
# A teaser is a headline and a line of text at most; a section title or a label is shorter.
_TEASER_MAX = 200
_LABEL_MAX = 60
# A kicker or dateline above the headline repeat is at most this long.
_KICKER = 100
_PHRASE_MAX = 80
_MENU_ITEM = 40
_MENU_LINES = 5
_CREDIT_MAX = 100
_POINTER_MAX = 200
_CALL_MAX = 250
_STAMP_MAX = 50


def _text(node: Any) -> str:
    return _WS.sub(" ", node.text_content()).strip()


def drop_widgets(tree: Any) -> None:
    """Remove from ``tree`` (in place) the elements that are unmistakably widgets."""
    for node in _WIDGETS(tree):
        if node.getparent() is not None:
            node.drop_tree()


def _fragment(body_html: str) -> Any:
    try:
        return lxml_html.fragment_fromstring(body_html, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def _link_share(node: Any, length: int) -> float:
    linked = sum(len(_text(a)) for a in node.iter("a"))
    return min(linked / length, 1.0) if length else 0.0


def quality(body_html: str) -> tuple[float, int]:
    """(score, length) of an extracted body: its text length and a score in [0, 1] that is low
    when the text is mostly link text or a menu (many short blocks that are links)."""
    root = _fragment(body_html) if body_html else None
    if root is None:
        return 0.0, 0
    length = len(_text(root))
    if not length:
        return 0.0, 0
    menu_items = link_items = 0
    for block in root.iter(*_BLOCKS):
        if block.find(".//p") is not None:
            continue  # a block of paragraphs is read paragraph by paragraph
        raw = block.text_content()
        size = len(_WS.sub(" ", raw).strip())
        # a list of signatories or ingredients is short blocks too, but not links
        if size < _MENU_ITEM and _link_share(block, size) > 0.5:
            menu_items += size
            link_items += 1
        elif raw.count("\n") >= _MENU_LINES - 1 and _is_line_menu(raw):
            menu_items += size  # a menu flattened to one block of short lines
            link_items += _MENU_LINES
    menu = menu_items / length if link_items >= _MENU_LINES else 0.0
    return 1.0 - max(_link_share(root, length), menu), length


def _is_line_menu(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return len(lines) >= _MENU_LINES and sum(map(len, lines)) / len(lines) < _MENU_ITEM / 2


def _words(body_html: str) -> Counter[str]:
    root = _fragment(body_html) if body_html else None
    return Counter(_WORD.findall(root.text_content().casefold())) if root is not None else Counter()


def covers(outer_html: str, inner_html: str) -> float:
    """Share of the words of ``inner_html`` that ``outer_html`` holds too (with repeats)."""
    inner = _words(inner_html)
    total = sum(inner.values())
    return sum((inner & _words(outer_html)).values()) / total if total else 0.0


def _is_boilerplate_block(node: Any) -> bool:
    text = _text(node)
    if not text:
        return not node.findall(".//img")
    if len(text) <= _PHRASE_MAX and _PHRASE.search(text):
        return True
    if len(text) <= _POINTER_MAX and _POINTER.search(text):
        return True
    if len(text) <= _CALL_MAX and _CALL.search(text):
        return True
    if len(text) <= _CALL_MAX and _DISCLOSURE.search(text):
        return True
    if len(text) <= _STAMP_MAX and _STAMP.match(text):
        return True
    return len(text) <= _CREDIT_MAX and bool(_CREDIT.search(text))


def _leaves(root: Any) -> list[Any]:
    """The blocks of ``root`` that hold no other block, and its pictures, in reading order."""
    return [
        node
        for node in root.iter(*_LEAF_TAGS)
        if node.tag == "img" or next(node.iterdescendants(*_LEAF_TAGS[:-1]), None) is None
    ]


def _in_link(node: Any, root: Any) -> bool:
    return any(a.tag == "a" for a in node.iterancestors() if a is not root)


def _teaser_kind(node: Any, root: Any) -> str:
    """What a block at the end of the text is: a ``picture``, a ``link`` (a teaser: mostly link
    text), a ``title`` (a heading or a label ending in a colon), or ``text``."""
    if node.tag == "img":
        return "picture"
    text = _text(node)
    if not text:
        return "picture"
    if len(text) <= _TEASER_MAX and (_in_link(node, root) or _link_share(node, len(text)) > 0.6):
        return "link"
    if len(text) <= _LABEL_MAX and (node.tag in _HEADINGS or text.endswith(":")):
        return "title"
    return "text"


def _drop_trailing_teasers(root: Any) -> bool:
    """Remove the run of teasers (links, pictures, section titles) that ends the text: a
    "related" or "more from" list after the article. The run must hold a title or a link, and
    leave at least half of the text."""
    leaves = _leaves(root)
    start = len(leaves)
    while start and _teaser_kind(leaves[start - 1], root) != "text":
        start -= 1
    run = leaves[start:]
    kinds = [_teaser_kind(node, root) for node in run]
    while kinds and kinds[0] == "picture":  # the article's last photo stays
        run, kinds = run[1:], kinds[1:]
    if not run or not set(kinds) & {"link", "title"}:
        return False
    total = len(_text(root))
    if sum(len(_text(node)) for node in run) * 2 > total:
        return False
    for node in run:
        if node.getparent() is not None:
            node.drop_tree()
    return True


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().casefold()


def _drop_leading_title(root: Any, title: str | None) -> bool:
    """Remove the kicker and headline repeat at the top of the extracted text: the entry has
    its own title."""
    if not title:
        return False
    children = list(root)
    wanted = _norm(title)
    for index, child in enumerate(children[:4]):
        text = _norm(child.text_content())
        if len(text) > _KICKER and text != wanted:
            return False  # the article has begun: a title repeated further down is its own
        if text and (text == wanted or (wanted.startswith(text) and len(text) > 20)):
            for node in children[: index + 1]:
                root.remove(node)
            return True
    return False


def clean_extracted(body_html: str, title: str | None = None) -> str:
    """Apply the boilerplate rules to an extracted body (HTML fragment); ``title`` is the
    page's, removed where the text begins with it."""
    root = _fragment(body_html) if body_html else None
    if root is None:
        return body_html
    changed = False
    for node in list(root.iter(*_BLOCKS)):
        if node.getparent() is not None and _is_boilerplate_block(node):
            node.drop_tree()
            changed = True
    changed = _drop_trailing_teasers(root) or changed
    changed = _drop_leading_title(root, title) or changed
    if not changed:
        return body_html
    return html.escape(root.text or "", quote=False) + "".join(
        str(lxml_html.tostring(c, encoding="unicode")) for c in root
    )
