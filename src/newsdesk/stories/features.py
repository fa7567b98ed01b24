"""What clustering compares, computed without the database: word-shingle MinHash signatures of
texts, significant title words, and the candidate keys (URL, text bands, title bands) that let
an entry find its likely matches by lookup instead of comparing all pairs.

The MinHash is a small numpy implementation with fixed constants: stored signatures must mean
the same thing in every process and release, and hashing a whole batch in a few array
operations (words, shingles and permutations alike) costs far less than hashing shingle by
shingle in Python."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

U32 = npt.NDArray[np.uint32]

SHINGLE = 3  # words per shingle
TEXT_CHARS = 3000  # a text's first ~450 words are enough to recognise a copy; caps the cost
MIN_SHINGLES = 25  # shorter texts get no signature: too little to tell copies from templates
TEXT_PERM = 60  # signature length: what verification estimates Jaccard similarity from
# Candidate keys: bands of the first values. Fewer keys than the signature could give, because
# every key is a row to write and to look up: 12 bands of 3 find 95% of pairs at Jaccard 0.6,
# 99.5% at 0.7, and an entry one member of its story misses is usually found by another.
TEXT_BANDS, TEXT_ROWS = 12, 3
TITLE_BANDS, TITLE_ROWS = 6, 2
TITLE_PERM = TITLE_BANDS * TITLE_ROWS
MIN_TITLE_TERMS = 4  # fewer significant words say too little to match a title on
MIN_CUT_TERMS = 5  # …and a title cut off by "…" needs more: its end may have told it apart
CUT = "…"  # the title term that marks a cut-off title
SIGNATURE_VERSION = 1
_BATCH_BYTES = 1 << 20  # texts tokenised per array pass
_STEP = 8192  # shingles hashed per array operation: big enough for numpy, small for the cache


def _constants(seed: int, shape: tuple[int, ...]) -> U32:
    """Fixed odd 32-bit constants, drawn from SHAKE-256 (not numpy's generators, whose streams
    may change between releases): stored signatures must stay comparable."""
    count = int(np.prod(shape))
    stream = hashlib.shake_256(f"newsdesk stories {seed}".encode()).digest(4 * count)
    values = np.frombuffer(stream, dtype="<u4").astype(np.uint32).reshape(shape)
    return values | np.uint32(1)


_BYTE_TABLE = _constants(5, (256, 32))  # tabulation hashing of words: byte × offset in word
_SHINGLE_MIX = _constants(7, (SHINGLE,))
_TEXT_A, _TEXT_B = _constants(11, (TEXT_PERM,)), _constants(13, (TEXT_PERM,))
_TITLE_A, _TITLE_B = _constants(17, (TITLE_PERM,)), _constants(19, (TITLE_PERM,))
_M1, _M2 = np.uint32(0x2C1B3C6D), np.uint32(0x297A2D39)

# Bytes that belong to words: ASCII letters, digits, underscore, and every UTF-8 byte of a
# non-ASCII character (typographic punctuation is turned into spaces first).
_IS_WORD = np.zeros(256, dtype=np.int8)
for _c in b"0123456789abcdefghijklmnopqrstuvwxyz_":
    _IS_WORD[_c] = 1
_IS_WORD[0x80:] = 1
_PUNCTUATION = str.maketrans(
    dict.fromkeys("\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u00ab\u00bb", " ")
)


def _split(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that carry no topic: English function words, reporting verbs, feed furniture.
STOPWORDS = _split(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself rt via says said say new
    amp read watch live update updates breaking opinion analysis exclusive video photos report
    latest news here's what's it's without within amid among across upon onto per vs toward
    towards"""
)


def _mix(values: U32) -> U32:
    """A xorshift-multiply finaliser: spreads every input bit over the output."""
    values = values ^ (values >> np.uint32(16))
    values *= _M1
    values ^= values >> np.uint32(15)
    values *= _M2
    values ^= values >> np.uint32(16)
    return values


def _word_hashes(raw: npt.NDArray[np.uint8]) -> tuple[U32, npt.NDArray[np.intp]]:
    """Hash of every word of a byte string (tabulation hashing over the byte and its offset in
    the word) and where each word starts."""
    is_word = _IS_WORD[raw]
    edges = np.diff(is_word, prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint32), starts
    marks = np.zeros(len(raw), dtype=np.intp)
    marks[starts] = starts
    offset = np.arange(len(raw), dtype=np.intp) - np.maximum.accumulate(marks)
    values = _BYTE_TABLE[raw, np.minimum(offset, 31)]
    values[is_word == 0] = 0
    hashes = np.bitwise_xor.reduceat(values, starts)
    return _mix(hashes), starts


def shingle_sets(texts: Sequence[str]) -> list[U32]:
    """Per text, the 32-bit hashes of its word 3-shingles (lower-cased, first TEXT_CHARS)."""
    out: list[U32] = [np.zeros(0, dtype=np.uint32)] * len(texts)
    start = 0
    while start < len(texts):
        parts: list[bytes] = []
        size, stop = 0, start
        while stop < len(texts) and (stop == start or size < _BATCH_BYTES):
            part = texts[stop][:TEXT_CHARS].lower().translate(_PUNCTUATION).encode("utf-8")
            parts.append(part)
            size += len(part) + 1
            stop += 1
        _shingle_batch(parts, out, start)
        start = stop
    return out


def _shingle_batch(parts: list[bytes], out: list[U32], first: int) -> None:
    joined = b" ".join(parts)
    if not joined:
        return
    raw = np.frombuffer(joined, dtype=np.uint8)
    hashes, word_starts = _word_hashes(raw)
    if len(hashes) < SHINGLE:
        return
    lengths = np.fromiter((len(p) + 1 for p in parts), dtype=np.intp, count=len(parts))
    text_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    owner = np.searchsorted(text_starts, word_starts, side="right") - 1
    n = len(hashes) - SHINGLE + 1
    same = owner[:n] == owner[SHINGLE - 1 :]
    mixed = hashes[:n] * _SHINGLE_MIX[0]
    for i in range(1, SHINGLE):
        mixed += _mix(hashes[i : i + n] + np.uint32(i)) * _SHINGLE_MIX[i]
    shingles = _mix(mixed)[same]
    shingle_owner = owner[:n][same]
    counts = np.bincount(shingle_owner, minlength=len(parts))
    bounds = np.concatenate(([0], np.cumsum(counts)))
    for position in np.flatnonzero(counts).tolist():
        out[first + position] = shingles[bounds[position] : bounds[position + 1]]


def _minhash_many(sets: Sequence[U32], a: U32, b: U32) -> U32:
    """MinHash of each non-empty set: per permutation i, min over x of (a_i·x + b_i) mod 2^32
    (odd a_i: a permutation of the 32-bit values), many sets per array operation."""
    out = np.empty((len(sets), len(a)), dtype=np.uint32)
    start = 0
    while start < len(sets):
        stop, total = start, 0
        while stop < len(sets) and (total == 0 or total + len(sets[stop]) <= _STEP):
            total += len(sets[stop])
            stop += 1
        chunk = sets[start:stop]
        offsets = np.zeros(len(chunk), dtype=np.intp)
        np.cumsum([len(s) for s in chunk[:-1]], out=offsets[1:])
        hashed = np.multiply.outer(a, np.concatenate(chunk))
        hashed += b[:, None]
        out[start:stop] = np.minimum.reduceat(hashed, offsets, axis=1).T
        start = stop
    return out


def _band_keys(prefix: str, signatures: U32, rows: int) -> list[list[str]]:
    """Per signature, one key per band: the band's number and its values in hex. The values
    themselves (not a hash of them), so two bands share a key exactly when they are equal."""
    width = 8 * rows
    keys: list[list[str]] = []
    for row in signatures.astype(">u4"):
        hexed = row.tobytes().hex()
        keys.append(
            [f"{prefix}{b}:{hexed[b * width : (b + 1) * width]}" for b in range(len(row) // rows)]
        )
    return keys


@dataclass(slots=True)
class Features:
    """One entry's clustering features."""

    minhash: U32 | None  # text signature; None: text too short
    shingles: int  # shingles the signature summarises
    title_terms: tuple[str, ...]  # significant title words, sorted
    key_terms: frozenset[str]  # title words that name something (numbers, proper names)
    url_keys: tuple[str, ...]  # "u:…" keys of the pages it is or shares
    text_keys: tuple[str, ...] = ()
    title_keys: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return self.url_keys + self.text_keys + self.title_keys

    def signature_blob(self) -> bytes | None:
        """Stored form: [version, shingle count, signature…] as little-endian uint32."""
        if self.minhash is None:
            return None
        head = np.array([SIGNATURE_VERSION, self.shingles], dtype="<u4")
        return head.tobytes() + self.minhash.astype("<u4").tobytes()

    def stored_terms(self, fingerprint: str) -> str:
        """Stored form of the title words: the words, "|", the naming ones, "|" and the
        fingerprint of what they were computed from (see ``fingerprint``)."""
        return f"{' '.join(self.title_terms)}|{' '.join(sorted(self.key_terms))}|{fingerprint}"


def parse_signature(blob: bytes | None) -> tuple[U32 | None, int]:
    """(signature, shingle count) from the stored form; (None, 0) when absent or foreign."""
    if not blob or len(blob) != 4 * (2 + TEXT_PERM):
        return None, 0
    values = np.frombuffer(blob, dtype="<u4")
    if int(values[0]) != SIGNATURE_VERSION:
        return None, 0
    return values[2:].astype(np.uint32), int(values[1])


def signature_values(blob: bytes | None) -> tuple[bytes | None, int]:
    """(signature values as little-endian uint32 bytes, shingle count) from the stored form,
    without building an array: clustering compares many at once."""
    if not blob or len(blob) != 4 * (2 + TEXT_PERM):
        return None, 0
    if int.from_bytes(blob[:4], "little") != SIGNATURE_VERSION:
        return None, 0
    return blob[8:], int.from_bytes(blob[4:8], "little")


def parse_terms(stored: str | None) -> tuple[tuple[str, ...], frozenset[str], str]:
    """(title words, naming words, fingerprint) from the stored form."""
    if not stored:
        return (), frozenset(), ""
    terms, keys, fingerprint = ([*stored.split("|", 2), "", ""])[:3]
    return tuple(terms.split()), frozenset(keys.split()), fingerprint


def fingerprint(item: Item) -> str:
    """What an entry's features depend on, hashed: an entry whose fingerprint did not change
    since it was clustered is not hashed again."""
    digest = hashlib.blake2b(digest_size=12)
    for part in (item.kind, item.title, item.text[:TEXT_CHARS], item.url_canonical or ""):
        digest.update(part.encode("utf-8", "replace") + b"\0")
    for link in item.links:
        digest.update(link.encode("utf-8", "replace") + b"\0")
    digest.update(f"v{SIGNATURE_VERSION}".encode())
    return digest.hexdigest()


def _stem(word: str) -> str:
    """Crude plural/possessive folding, enough for headlines ("talks"/"talk")."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_URLISH = re.compile(r"https?://\S+|www\.\S+|\b\S+\.(?:com|org|net|co|ly|io)/\S*")
_MENTION = re.compile(r"(?<!\w)[@#]\w+")
_TRUNCATED = re.compile(r"([\w']*)(?:…|\.\.\.)\s*$")
_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*|[\w']+…?")


def title_terms(title: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """Significant words of a title (or a post's text) and, of those, the ones naming
    something: numbers, and capitalised words after the first (in a title written in Title
    Case that is every word: then a title matches only a title holding all its words). Links,
    @mentions, #hashtags and a last word cut off by "…" are left out."""
    if not title.isascii():
        title = unicodedata.normalize("NFKC", title).replace("\u2019", "'")
    title = _MENTION.sub(" ", _URLISH.sub(" ", title))
    cut = _TRUNCATED.search(title)
    if cut:
        title = title[: cut.start()] + " " + cut.group(1) + "…"
    terms: dict[str, None] = {}
    keys: set[str] = set()
    for i, token in enumerate(_TOKEN.findall(title)):
        low = token.lower().strip("'")
        if (len(low) < 2 and not low.isdigit()) or low in STOPWORDS:
            continue
        term = low if low.endswith("…") else _stem(low)
        terms[term] = None
        if term[0].isdigit() or (i > 0 and token[0].isupper()):
            keys.add(term)
    if cut:
        terms[CUT] = None  # the title went on: what it lost may be what tells it apart
    return tuple(sorted(terms)), frozenset(keys)


_SOCIAL_HOSTS = _split(
    """twitter.com x.com mobile.twitter.com facebook.com m.facebook.com instagram.com
    threads.net tiktok.com linkedin.com t.me telegram.me youtube.com m.youtube.com bsky.app
    reddit.com old.reddit.com github.com medium.com pinterest.com tumblr.com"""
)
_NOT_A_STORY = _split(
    """hashtag tags tag topics topic search explore in company channel c user users author
    authors profile r category categories section sections i intent share home login signup"""
)
_SECTION_WORDS = _split(
    """news world politics business sport sports tech technology science opinion culture us uk
    europe international latest index.html index.php home about contact live video videos"""
)


def story_url(url: str) -> bool:
    """Whether a canonical URL names one page about something (an article, a post), not a home
    page, a profile, a section, tag or search page: those are shared by unrelated entries."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    host = (parts.hostname or "").removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return False
    first = segments[0].lower()
    if first.startswith("@"):  # Mastodon, Medium, YouTube: /@user is a profile, /@user/123 a post
        return len(segments) >= 2
    if first == "r" and "comments" in segments:  # reddit.com/r/x/comments/1/…: a post
        return True
    if first in _NOT_A_STORY:
        return False
    if host in _SOCIAL_HOSTS:  # x.com/user is a profile; x.com/user/status/1 a post
        return len(segments) >= 2 or (host.endswith("youtube.com") and first == "watch")
    return not (len(segments) == 1 and first in _SECTION_WORDS)


def url_key(canonical: str) -> str:
    return "u:" + hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Item:
    """What features are computed from: one entry's fields."""

    kind: str
    title: str
    text: str
    url_canonical: str | None
    links: Sequence[str]


_TITLE_WORDS: dict[str, int] = {}


def _term_hash(term: str) -> int:
    value = _TITLE_WORDS.get(term)
    if value is None:
        if len(_TITLE_WORDS) > 100_000:
            _TITLE_WORDS.clear()
        digest = hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest()
        value = _TITLE_WORDS[term] = int.from_bytes(digest, "little")
    return value


def compute(items: Sequence[Item]) -> list[Features]:
    """Features of a batch of entries, hashed together."""
    out: list[Features] = []
    title_sets: list[U32] = []
    title_at: list[int] = []
    for i, item in enumerate(items):
        title = item.title or (item.text[:300] if item.kind == "post" else "")
        terms, key_terms = title_terms(title)
        words = [t for t in terms if t != CUT]
        if len(words) >= MIN_TITLE_TERMS:
            title_sets.append(np.array([_term_hash(t) for t in words], dtype=np.uint32))
            title_at.append(i)
        urls: dict[str, None] = {}
        if item.url_canonical and story_url(item.url_canonical):
            urls[url_key(item.url_canonical)] = None
        if item.kind == "post":
            for link in item.links:
                if story_url(link):
                    urls[url_key(link)] = None
        out.append(Features(None, 0, terms, key_terms, tuple(urls)))
    shingles = shingle_sets([item.text for item in items])
    text_at = [i for i, s in enumerate(shingles) if len(s) >= MIN_SHINGLES]
    text_sets = [shingles[i] for i in text_at]
    text_sigs = _minhash_many(text_sets, _TEXT_A, _TEXT_B)
    text_keys = _band_keys("t", text_sigs[:, : TEXT_BANDS * TEXT_ROWS], TEXT_ROWS)
    for row, i in enumerate(text_at):
        out[i].minhash = text_sigs[row]
        out[i].shingles = len(text_sets[row])
        out[i].text_keys = tuple(text_keys[row])
    title_sigs = _minhash_many(title_sets, _TITLE_A, _TITLE_B)
    for i, keys in zip(title_at, _band_keys("h", title_sigs, TITLE_ROWS), strict=True):
        out[i].title_keys = tuple(keys)
    return out


def title_similarity(
    a: Collection[str], a_keys: AbstractSet[str], b: Collection[str], b_keys: AbstractSet[str]
) -> float:
    """Share of the shorter title's significant words found in the other; 0 when either says
    too little, or when a name or number of the shorter one is missing from the other (two
    earthquakes, two cities: same words, different stories). A word cut off by "…" matches
    any word it begins; a cut-off title must say more to match at all."""
    sa = a if isinstance(a, (set, frozenset)) else set(a)
    sb = b if isinstance(b, (set, frozenset)) else set(b)
    cut_a, cut_b = CUT in sa, CUT in sb
    if cut_a or cut_b:
        sa, sb = sa - {CUT}, sb - {CUT}
    if len(sa) < MIN_TITLE_TERMS or len(sb) < MIN_TITLE_TERMS:
        return 0.0
    if len(sa) <= len(sb):
        small, small_keys, large, small_cut = sa, a_keys, sb, cut_a
    else:
        small, small_keys, large, small_cut = sb, b_keys, sa, cut_b
    if small_cut and len(small) < MIN_CUT_TERMS:
        return 0.0
    missing = {
        term
        for term in small - large
        if not (term.endswith("…") and any(t.startswith(term[:-1]) for t in large))
    }
    if missing & small_keys:
        return 0.0
    return (len(small) - len(missing)) / len(small)
