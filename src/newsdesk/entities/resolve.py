"""From the model's raw spans to one entity per person, organisation and place of a document.

The model (spaCy's small English pipeline) finds names but labels them unevenly: the same
surname is PERSON here and NORP there, "Mr. Smirnov" and "Weiss' team" are ORG, placeholders
("RO 5", "Country D") and demonyms pass as names. This module, pure Python and free of spaCy,
cleans each span (possessives, honorifics and titles, punctuation, junk), then joins the
variants of one document: a surname to the one full name that ends with it, an acronym to the
long form the document defines, alias-table variants to their canonical name, and a kind by
vote across the mentions of a name."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from newsdesk.entities.knowledge import Knowledge, knowledge
from newsdesk.entities.words import CONNECTORS, MONTHS_DAYS
from newsdesk.model import FoundEntity
from newsdesk.process.names import fold, make_key

LABEL_KINDS: dict[str, str | None] = {
    "PERSON": "person",
    "ORG": "org",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": None,  # nationalities, religious and political groups: not entities by themselves
}

MAX_TOKENS = 8
_TOKEN = re.compile(r"\S+")
_POSSESSIVE = re.compile(r"(?:['’][sS]|(?<=[sSzZ])['’])$")
_LEAD_PUNCT = "\"'“”‘’«»([{<*_"
_TRAIL_PUNCT = "\"'“”‘’«»)]}>*_,;:!?…"
_NUMBERISH = re.compile(r"^(?:\d[\d,./:-]*|\d+(?:st|nd|rd|th)|[A-Z])$")
_URLISH = re.compile(r"://|^www\.|@|\.(?:com|org|net|gov|io|co|ru|uk|de)\b", re.IGNORECASE)
_PREFIX = re.compile(r"^([A-Za-z]+)[-‐‑–](?=\w)")


@dataclass(slots=True)
class Mention:
    """One cleaned span: where it is, how it is written, what the model (or a rule) says."""

    start: int
    end: int
    surface: str
    kind: str | None
    person_hint: bool = False  # an honorific ("Mr.", "Dr") was in front
    hashtag: bool = False
    place_label: bool = False  # the model said GPE/LOC/FAC

    @property
    def words(self) -> list[str]:
        return self.surface.split(" ")


def _bare(token: str) -> str:
    return fold(token).rstrip(".")


class _Span:
    """A model span as word tokens ([start, end] offsets into the text) being trimmed."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.toks = [[start + m.start(), start + m.end()] for m in _TOKEN.finditer(text[start:end])]

    def tok(self, i: int) -> str:
        return self.text[self.toks[i][0] : self.toks[i][1]]

    def cut_parenthesis(self) -> None:
        """Stop at a parenthesis: "Federal Bureau of Investigation (FBI" -> the long form."""
        for i in range(len(self.toks)):
            word = self.tok(i)
            cut = min((p for p in (word.find("("), word.find(")")) if p >= 0), default=-1)
            if cut >= 0:
                self.toks[i][1] = self.toks[i][0] + cut
                self.toks = self.toks[: i + 1] if cut > 0 else self.toks[:i]
                return

    def cut_possessive(self) -> None:
        """A possessive ends the name: "Smirnov’s Russian" -> "Smirnov", "Weiss’" -> "Weiss"."""
        for i in range(len(self.toks)):
            found = _POSSESSIVE.search(self.tok(i))
            if found:
                self.toks[i][1] -= len(found.group(0))
                self.toks = self.toks[: i + 1]
                return

    def cut_sentence_break(self, kb: Knowledge) -> None:
        """A sentence break inside the span: "Country B. Smirnov", "X. The New York Times"."""
        for i in range(len(self.toks) - 1):
            word = self.tok(i)
            placeholder = i >= 1 and _bare(self.tok(i - 1)) in kb.placeholders
            if word.endswith(".") and placeholder and _NUMBERISH.match(word[:-1]):
                self.toks = self.toks[i + 1 :]
                return
            if word.endswith(".") and _bare(self.tok(i + 1)) in kb.stopwords:
                self.toks = self.toks[i + 1 :]
                return

    def strip_punctuation(self) -> None:
        """Punctuation around the name."""
        while self.toks:
            first = self.tok(0)
            stripped = first.lstrip(_LEAD_PUNCT)
            self.toks[0][0] += len(first) - len(stripped)
            last = self.tok(-1)
            trail = last.rstrip(_TRAIL_PUNCT)
            if trail.endswith(".") and "." not in trail[:-1] and len(trail) > 4:
                trail = trail[:-1]  # "Smirnov." but not "U.S." or "Jr."
            self.toks[-1][1] -= len(last) - len(trail)
            self.toks = [t for t in self.toks if t[1] > t[0]]
            if self.toks and self.tok(0) and self.tok(0)[0] in _LEAD_PUNCT:
                continue
            return

    def strip_prefix(self, kb: Knowledge) -> bool:
        """ "pro-Hamas", "anti-Biden": the name after the prefix. Whether there was one (the
        name's kind is then unknown)."""
        if not self.toks:
            return False
        prefix = _PREFIX.match(self.tok(0))
        if prefix and fold(prefix.group(1)) in kb.prefixes:
            self.toks[0][0] += prefix.end()
            return True
        return False

    def strip_leading(self, kind: str | None, kb: Knowledge) -> bool | None:
        """Leading "the", honorifics, titles (for people), demonyms before a person's name.
        Whether an honorific was there; None when the span is an honorific alone."""
        person_hint = False
        while self.toks:
            word = _bare(self.tok(0))
            several = len(self.toks) > 1
            if word == "the" and several:
                self.toks.pop(0)
            elif word in kb.honorifics and several:
                self.toks.pop(0)
                person_hint = True
            elif (
                several and kind in ("person", None) and (word in kb.titles or word in kb.demonyms)
            ):
                self.toks.pop(0)
            elif word in kb.honorifics:
                return None
            else:
                break
        return person_hint

    def is_placeholder(self, kind: str | None, kb: Knowledge) -> bool:
        """Placeholders ("RO 5", "Country D", "Businessperson 1") are no one in particular; a
        person's trailing number goes ("Alexander Smirnov 1")."""
        if len(self.toks) < 2 or not _NUMBERISH.match(self.tok(-1).rstrip(".")):
            return False
        previous = self.tok(-2)
        if _bare(previous) in kb.placeholders or (previous.isupper() and len(previous) <= 3):
            return True
        if kind == "person":
            self.toks.pop()
        return False

    def strip_trailing(self, kb: Knowledge) -> None:
        """Trailing titles: "Nevada Magistrate" -> "Nevada"; never "Department of Justice"."""
        while len(self.toks) >= 2 and _bare(self.tok(-1)) in kb.trailing_titles:
            if _bare(self.tok(-2)) in CONNECTORS:
                break
            self.toks.pop()
        while self.toks and _bare(self.tok(-1)) in CONNECTORS:
            self.toks.pop()


def clean_mention(text: str, start: int, end: int, label: str, kb: Knowledge) -> Mention | None:
    """Trim one model span to the name it holds, or None when it holds none."""
    if label not in LABEL_KINDS:
        return None
    kind = LABEL_KINDS[label]
    if "\n" in text[start:end]:  # a span running across paragraphs: keep its first line
        end = start + text[start:end].index("\n")
    before = text[start - 1] if start > 0 else ""
    if before == "@":
        return None
    span = _Span(text, start, end)
    span.cut_parenthesis()
    span.cut_possessive()
    span.cut_sentence_break(kb)
    span.strip_punctuation()
    if span.strip_prefix(kb):
        kind = None
    person_hint = span.strip_leading(kind, kb)
    if person_hint is None or not span.toks or span.is_placeholder(kind, kb):
        return None
    span.strip_trailing(kb)
    if not span.toks or len(span.toks) > MAX_TOKENS:
        return None
    start, end = span.toks[0][0], span.toks[-1][1]
    surface = " ".join(text[start:end].split())
    if not _plausible(surface, kind, kb):
        return None
    if len(span.toks) >= 2 and _bare(span.tok(-1)) in kb.facility_suffixes:
        kind = "place"
    return Mention(
        start=start,
        end=end,
        surface=surface,
        kind=kind,
        person_hint=person_hint,
        hashtag=before == "#",
        place_label=label in ("GPE", "LOC", "FAC"),
    )


def _plausible(name: str, kind: str | None, kb: Knowledge) -> bool:
    """Junk filter: what no reader would call a name."""
    if len(name) < 2 or len(name) > 100 or not any(c.isalpha() for c in name):
        return False
    if _URLISH.search(name) or name.startswith("#"):
        return False
    words = name.split(" ")
    first = name[0]
    lowercase_start = not (first.isupper() or first.isdigit())
    # "eBay" passes, "n’t" and "thenUkrainian Prosecutor" do not
    if lowercase_start and (len(words) > 1 or not any(c.isupper() for c in name[1:])):
        return False
    if all(_bare(w) in MONTHS_DAYS or _NUMBERISH.match(w.rstrip(".,")) for w in words):
        return False
    if kind == "person" and any(c.isdigit() for c in name):
        return False
    if kb.lookup(name) is not None:
        return True
    folded = fold(name).rstrip(".")
    if folded in kb.generic or folded in kb.demonyms:
        return False
    return not (len(words) == 1 and folded in kb.stopwords)


@dataclass(slots=True)
class _Group:
    """Mentions taken to be one entity while the document is resolved."""

    mentions: list[Mention]
    kind: str | None = None
    canonical: str | None = None  # from the alias table or an acronym's long form
    votes: Counter[str] = field(default_factory=Counter)

    @property
    def tokens(self) -> list[str]:
        return self.best.split(" ")

    @property
    def best(self) -> str:
        """The fullest form: most words, then most frequent, then first seen."""
        counts = Counter(m.surface for m in self.mentions)
        order = {m.surface: -m.start for m in reversed(self.mentions)}
        return max(counts, key=lambda s: (len(s.split(" ")), counts[s], order[s]))


def _without_designators(name: str, kb: Knowledge) -> str:
    words = name.split(" ")
    while len(words) > 1 and _bare(words[-1]) in kb.designators:
        words.pop()
    return " ".join(words)


def _core_key(name: str, kb: Knowledge) -> str:
    return make_key(_without_designators(name, kb))


def _initials_match(long_form: str, acronym: str) -> bool:
    letters = [c for c in acronym if c.isalpha()]
    capitals = [c.upper() for c in letters if c.isupper()]
    initials = [w[0].upper() for w in long_form.split(" ") if w and w[0].isupper()]
    if len(capitals) < 2 or not initials or capitals[0] != initials[0]:
        return False

    def subsequence(small: list[str], big: list[str]) -> bool:
        it = iter(big)
        return all(c in it for c in small)

    return subsequence(initials, capitals) or subsequence(capitals, initials)


_ACRONYM_AFTER = (
    re.compile(r"\s*\(\s*([A-Z][A-Za-z&.\-]{1,11})\s*\)"),
    re.compile(r",?\s+or\s+(?:the\s+)?([A-Z][A-Z&.]{1,9})\b"),
)


def _acronyms(text: str, mentions: list[Mention]) -> dict[str, tuple[Mention, int]]:
    """Acronyms the document defines after a long form ("Gulf Cooperation Council (GCC)",
    "Palestine Liberation Organization, or PLO"): acronym -> (long form, where it is written)."""
    found: dict[str, tuple[Mention, int]] = {}
    for m in mentions:
        if len(m.words) < 2 or m.kind == "person":
            continue
        for pattern in _ACRONYM_AFTER:
            match = pattern.match(text, m.end)
            if match and _initials_match(m.surface, match.group(1)):
                acronym = match.group(1).rstrip(".")
                found.setdefault(acronym, (m, match.start(1)))
                break
    return found


def _acronym_mentions(mentions: list[Mention], defined: dict[str, tuple[Mention, int]]) -> None:
    """Add the defining occurrence of each acronym when the model did not label it."""
    taken = [(m.start, m.end) for m in mentions]
    for acronym, (long_mention, position) in defined.items():
        end = position + len(acronym)
        if any(s < end and position < e for s, e in taken):
            continue
        mentions.append(Mention(position, end, acronym, long_mention.kind))


def _expand_surname(text: str, surname: str, kb: Knowledge, known: set[str]) -> str | None:
    """The one "Given Surname" the text writes for a surname the model only saw alone
    ("Special Counsel Leo Wise" -> "Leo Wise")."""
    pattern = re.compile(
        r"(?<![\w'’.-])([A-Z][a-z]+(?:[-'’][A-Z][a-z]+)?)\s+" + re.escape(surname) + r"(?![\w-])"
    )
    givens = set()
    for match in pattern.finditer(text):
        given = match.group(1)
        folded = fold(given)
        before = text[: match.start()].rstrip(" \t")
        if not before or before[-1] in ".!?:\n“":
            continue  # sentence-initial: can't tell a name from a capitalised word
        if (
            folded in kb.stopwords
            or folded in kb.titles
            or folded in kb.honorifics
            or folded in kb.demonyms
            or folded in kb.generic
            or folded in kb.placeholders
            or folded in MONTHS_DAYS
            or make_key(given) in known
            or kb.lookup(given) is not None
        ):
            continue
        givens.add(given)
    if len(givens) == 1:
        return f"{givens.pop()} {surname}"
    return None


def resolve(text: str, mentions: list[Mention], kb: Knowledge | None = None) -> list[FoundEntity]:
    """Join the cleaned mentions of one document into entities."""
    kb = kb or knowledge()
    plain = {fold(m.surface) for m in mentions if not m.hashtag}
    mentions = [
        m for m in mentions if not m.hashtag or kb.lookup(m.surface) or fold(m.surface) in plain
    ]
    defined = _acronyms(text, mentions)
    _acronym_mentions(mentions, defined)
    mentions.sort(key=lambda m: m.start)
    groups = _pre_groups(text, mentions, defined, kb)
    _join_short_forms(text, groups, kb)
    return _found_entities(groups, kb)


def _pre_groups(
    text: str, mentions: list[Mention], defined: dict[str, tuple[Mention, int]], kb: Knowledge
) -> dict[str, _Group]:
    """1. Pre-groups: same key, or an acronym defined for a long form; each with its kind and,
    when the alias table or an acronym gives one, its canonical name."""
    groups: dict[str, _Group] = {}
    long_keys = {acr: _core_key(m.surface, kb) for acr, (m, _) in defined.items()}
    for m in mentions:
        key = long_keys.get(m.surface) or _core_key(m.surface, kb)
        if not key:
            continue
        group = groups.setdefault(key, _Group([]))
        group.mentions.append(m)
        if m.kind is not None:
            group.votes[m.kind] += 1
        if m.person_hint:
            group.votes["person"] += 3
    for key, group in groups.items():
        hit = None
        for m in group.mentions:
            hit = kb.lookup(m.surface) or kb.lookup(_without_designators(m.surface, kb))
            if hit:
                break
        if hit:
            group.kind, group.canonical = hit
        elif group.votes:
            group.kind = max(group.votes, key=lambda k: (group.votes[k], k == "person"))
        if key in long_keys.values() and group.canonical is None:
            long_forms = [m.surface for m in group.mentions if len(m.words) > 1]
            group.canonical = Counter(long_forms).most_common(1)[0][0] if long_forms else None
    for group in groups.values():
        if group.kind == "org" and group.canonical is None and _named_by_surname(text, group, kb):
            group.kind = "person"  # "Nikola Mikovic" (ORG) who is "Mikovic" further on
    return groups


def _join_short_forms(text: str, groups: dict[str, _Group], kb: Knowledge) -> None:
    """2. Surnames and other short forms join the one longer name ending with them."""
    full_people = {k: g for k, g in groups.items() if g.kind == "person" and len(k.split(" ")) >= 2}
    merged: dict[str, str] = {}
    for key, group in list(groups.items()):
        if key in full_people:
            continue
        target = _short_form_target(text, key, group, groups, full_people, kb)
        if target is not None:
            merged[key] = target
    for key, target_key in merged.items():
        while target_key in merged:
            target_key = merged[target_key]
        if key in groups and target_key in groups:
            groups[target_key].mentions.extend(groups.pop(key).mentions)


def _short_form_target(
    text: str,
    key: str,
    group: _Group,
    groups: dict[str, _Group],
    full_people: dict[str, _Group],
    kb: Knowledge,
) -> str | None:
    """The key of the longer name a short form stands for, or None. A short form that could
    be several people, or a family ("the Bidens"), is dropped from ``groups``."""
    words = key.split(" ")
    labelled_person = group.votes["person"] > 0
    if group.canonical and not (labelled_person and len(words) == 1):
        return None
    person_targets = [k for k in full_people if k.split(" ")[-len(words) :] == words and k != key]
    if not person_targets and len(words) == 1:  # "Wang" of "Wang Yi" (family name first)
        person_targets = [k for k in full_people if k.split(" ")[0] == key]
    family = len(words) == 1 and key.endswith("s") and not person_targets
    if family and any(k.split(" ")[-1] == key[:-1] for k in full_people):
        del groups[key]  # "the Bidens": a family, not one person
        return None
    if len(person_targets) == 1:
        return person_targets[0]
    if len(person_targets) > 1:
        del groups[key]  # "Biden" with Joe and Hunter Biden around: can't tell which
        return None
    if group.canonical:
        return None
    if len(words) == 1:
        others = [
            k
            for k, g in groups.items()
            if k != key
            and len(k.split(" ")) >= 2
            and g.kind not in (None, "person")
            and k.split(" ")[-1] == key
        ]
        if len(others) == 1:
            return others[0]
    if group.kind == "person" and len(words) == 1:
        return _expand_into(text, group, groups, kb)
    return None


def _expand_into(text: str, group: _Group, groups: dict[str, _Group], kb: Knowledge) -> str | None:
    """A lone surname whose full name the text spells out near it: the full name's group (made
    when the model missed it), or None."""
    surname = group.best
    full = _expand_surname(text, surname, kb, set(groups))
    if not full:
        return None
    offset, full_end = _first_occurrence(text, full)
    target_key = _core_key(full, kb)
    target = groups.setdefault(target_key, _Group([], kind="person"))
    target.kind = "person"
    for m in group.mentions:  # the surname the model saw there becomes the full name
        if m.start == full_end - len(surname):
            m.start, m.surface = offset, full
            break
    else:
        target.mentions.append(Mention(offset, full_end, full, "person"))
    return target_key


def _found_entities(groups: dict[str, _Group], kb: Knowledge) -> list[FoundEntity]:
    """3. One FoundEntity per (kind, key), in the order the document first names them."""
    out: dict[tuple[str, str], FoundEntity] = {}
    for group in groups.values():
        if group.kind is None:
            continue
        group.mentions.sort(key=lambda m: m.start)
        name = group.canonical or group.best
        if group.kind == "person" and name.isupper() and len(name) > 4:
            name = name.title()
        entity_key = make_key(name) if group.canonical else _core_key(name, kb)
        if not entity_key:
            continue
        surfaces = tuple(dict.fromkeys(m.surface for m in group.mentions))
        previous = out.get((group.kind, entity_key))
        if previous is not None:
            surfaces = tuple(dict.fromkeys(previous.surfaces + surfaces))
        out[(group.kind, entity_key)] = FoundEntity(
            kind=group.kind,
            key=entity_key,
            name=previous.name if previous else name,
            surfaces=surfaces,
            count=len(group.mentions) + (previous.count if previous else 0),
            first_offset=min(
                group.mentions[0].start,
                previous.first_offset if previous else group.mentions[0].start,
            ),
        )
    return sorted(out.values(), key=lambda f: (f.first_offset, f.kind, f.key))


def _named_by_surname(text: str, group: _Group, kb: Knowledge) -> bool:
    """A two-word "organisation" whose second word recurs alone, mid-sentence, is a person:
    organisations are not called by their last word."""
    words = group.best.split(" ")
    if len(words) != 2 or not all(
        w.isalpha() and w[:1].isupper() and w[1:].islower() for w in words
    ):
        return False
    first = fold(words[0])
    if first in kb.demonyms or first in kb.stopwords or first in kb.generic:
        return False
    if kb.lookup(words[0]) is not None or kb.lookup(words[1]) is not None:
        return False
    alone = re.compile(r"(?<![\w'’.-])" + re.escape(words[1]) + r"(?![\w'’-]*\s+[A-Z])(?![\w-])")
    hits = 0
    for match in alone.finditer(text):
        before = text[: match.start()].rstrip(" \t")
        if before.endswith(words[0]) or not before or before[-1] in ".!?:\n“":
            continue
        hits += 1
    return hits >= 2


def _first_occurrence(text: str, name: str) -> tuple[int, int]:
    """Where ``name`` (whitespace collapsed) is first written in ``text``, whatever whitespace
    the text puts between its words ("Leo\nWise" is "Leo Wise"); (0, len) when it is not."""
    words = name.split()
    match = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
    if match is None:
        return 0, len(name)
    return match.start(), match.end()


_PARTICLES = re.compile(r"\s+(?:(?:von|van|der|den|de|da|di|du|del|della|la|le|bin|ibn|al|el)\s+)+")


def _join_particles(text: str, spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Rejoin a name the model split at its lowercase particles: "Ursula" + "von der" +
    "Leyen" is one person."""
    out: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans):
        if out:
            p_start, p_end, p_label = out[-1]
            gap = _PARTICLES.fullmatch(text, p_end, start)
            if gap and p_label == "PERSON" and label in ("PERSON", "GPE", "ORG", "NORP"):
                out[-1] = (p_start, end, "PERSON")
                continue
        out.append((start, end, label))
    return out


def entities_in(
    text: str, spans: Iterable[tuple[int, int, str]], kb: Knowledge | None = None
) -> list[FoundEntity]:
    """The entities of one document from the model's (start, end, label) spans."""
    kb = kb or knowledge()
    mentions = []
    for start, end, label in _join_particles(text, spans):
        mention = clean_mention(text, start, end, label, kb)
        if mention is not None:
            mentions.append(mention)
    return resolve(text, mentions, kb)
