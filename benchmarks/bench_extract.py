"""Full-text extraction: Newsdesk against the libraries it stands on, on corpora nobody here wrote.

Two public corpora, read from ``../shared/corpora/`` (relative to the repository root) and unpacked
once into ``.cache/corpora/`` (git-ignored). When they are absent the benchmark says so and exits 0.

* trafilatura's evaluation set (990 real pages): each page has snippets that must (``with``) and
  must not (``without``) appear in the main text. A ``with`` snippet found is a true positive, one
  missing a false negative, a ``without`` snippet found a false positive; precision, recall and F1
  over all snippets (whitespace-normalized substring match, as trafilatura's own evaluation does).
* Mozilla Readability's test pages (130): the extracted text against the text of ``expected.html``,
  token based (bag of lower-cased words): precision, recall and F1 per page, averaged.

Extractors, each given the same bytes in the same process, taking turns page by page, timed in CPU
seconds of the process (see ``run_corpus``):

* ``newsdesk``: ``extract_page(bytes, url, url)`` exactly as ``enrich`` calls it (decoding,
  metadata, extraction, fallback, sanitizing, plain text), scored on ``PageText.text``;
* ``trafilatura``: ``trafilatura.extract(bytes, url=url)`` with trafilatura's canonical evaluation
  options (no comments, tables, fallback on);
* ``readability``: readability-lxml's ``Document(bytes).summary()``, as plain text.

``--split even|odd|all`` picks the pages of trafilatura's corpus (sorted by URL): the rules were
tuned on the even-indexed half only, the odd half is held out; with ``all`` the table shows each
half too. End to end (``--end-to-end N``, default 300, 0 to skip): the first N of those pages are
served on loopback behind a summary-only RSS feed and read by the real ``newsdesk refresh``; each
entry's ``content_text`` from ``newsdesk entries --json`` is scored the same way, beside the direct
calls on the same pages (``extract_e2e.py``).

Run: ``python benchmarks/bench_extract.py [--only NAME ...] [--corpus NAME ...] [--split HALF]
[--limit N] [--end-to-end N] [--json PATH] [--dump PATH]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
CACHE = ROOT / ".cache" / "corpora"
ARCHIVES = {"trafilatura": "trafilatura-eval", "readability": "readability-pages"}
READABILITY_URL = "http://fakehost/test/page.html"  # the URL Readability's own tests use
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")

Extractor = Callable[[bytes, str], str]


@dataclass(slots=True)
class Page:
    name: str
    url: str
    body: bytes
    with_: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)
    expected: str = ""


@dataclass(slots=True)
class Result:
    tp: float = 0.0
    fp: float = 0.0
    fn: float = 0.0
    pages: int = 0
    seconds: float = 0.0
    failures: int = 0
    times: dict[str, float] = field(default_factory=dict)
    per_page: list[tuple[float, float, float]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def snippet_scores(self) -> tuple[float, float, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0
        return precision, recall, f1

    def token_scores(self) -> tuple[float, float, float]:
        if not self.per_page:
            return 0.0, 0.0, 0.0
        n = len(self.per_page)
        return tuple(sum(s[i] for s in self.per_page) / n for i in range(3))  # type: ignore[return-value]


def unpack(name: str) -> Path | None:
    """The unpacked corpus folder, unpacking the archive on first use; None when it is absent."""
    folder = CACHE / name
    if (folder / ".unpacked").exists():
        return folder
    archive = SHARED / f"{name}.tar.xz"
    if not archive.exists():
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    (folder / ".unpacked").touch()
    return folder


def trafilatura_pages(folder: Path) -> list[Page]:
    data: dict[str, dict[str, Any]] = json.loads((folder / "tests" / "evaldata.json").read_text())
    pages = []
    for url, item in data.items():
        for sub in ("cache", "eval"):
            path = folder / "tests" / sub / item["file"]
            if path.is_file():
                pages.append(
                    Page(item["file"], url, path.read_bytes(), item["with"], item["without"])
                )
                break
    return pages


def split(pages: list[Page], half: str) -> list[Page]:
    """The pages sorted by URL, then every page (``all``), the even-indexed or the odd-indexed
    ones: rules are tuned on the even half only and the odd half is reported as held out."""
    ordered = sorted(pages, key=lambda page: page.url)
    return ordered if half == "all" else ordered[0 if half == "even" else 1 :: 2]


def readability_pages(folder: Path) -> list[Page]:
    from lxml import html as lxml_html

    pages = []
    for case in sorted((folder / "test" / "test-pages").iterdir()):
        source, expected = case / "source.html", case / "expected.html"
        if source.is_file() and expected.is_file():
            text = lxml_html.fromstring(expected.read_bytes()).text_content()
            pages.append(Page(case.name, READABILITY_URL, source.read_bytes(), expected=text))
    return pages


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def score_snippets(page: Page, text: str, result: Result) -> None:
    found = _norm(text)
    tp = sum(1 for s in page.with_ if _norm(s) in found)
    fp = sum(1 for s in page.without if _norm(s) in found)
    result.tp += tp
    result.fn += len(page.with_) - tp
    result.fp += fp


def score_tokens(page: Page, text: str, result: Result) -> None:
    got = Counter(w.casefold() for w in _WORD.findall(text))
    want = Counter(w.casefold() for w in _WORD.findall(page.expected))
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    result.per_page.append((precision, recall, f1))


def newsdesk_extractor() -> Extractor:
    from newsdesk.process.fulltext import extract_page

    def run(body: bytes, url: str) -> str:
        return extract_page(body, url, url).text or ""

    return run


def trafilatura_extractor() -> Extractor:
    import trafilatura

    def run(body: bytes, url: str) -> str:
        return (
            trafilatura.extract(
                body, url=url, include_comments=False, include_tables=True, include_formatting=False
            )
            or ""
        )

    return run


def readability_extractor() -> Extractor:
    import logging

    from lxml import html as lxml_html
    from readability import Document  # type: ignore[import-untyped]

    logging.getLogger("readability.readability").setLevel(logging.CRITICAL)

    def run(body: bytes, url: str) -> str:
        summary = Document(body, url=url).summary(html_partial=True)
        return str(lxml_html.fromstring(summary).text_content()) if summary.strip() else ""

    return run


EXTRACTORS: dict[str, Callable[[], Extractor]] = {
    "newsdesk": newsdesk_extractor,
    "trafilatura": trafilatura_extractor,
    "readability-lxml": readability_extractor,
}


def run_corpus(
    extractors: dict[str, Extractor],
    pages: list[Page],
    score: Callable[[Page, str, Result], None],
) -> dict[str, Result]:
    """Every extractor on every page, page by page (the extractors take turns on each page, so a
    change in the machine's load weighs on all of them alike), timed in CPU seconds of this
    process: the extraction is single-threaded and CPU-bound, and CPU time leaves out the time
    other processes on a shared machine hold the cores."""
    results = {name: Result() for name in extractors}
    for page in pages:
        for name, extract in extractors.items():
            result = results[name]
            started = time.process_time()
            try:
                text = extract(page.body, page.url)
            except Exception:  # a crash counts as a full miss, as in production
                text = ""
                result.failures += 1
            result.times[page.name] = time.process_time() - started
            result.seconds += result.times[page.name]
            result.pages += 1
            result.texts[page.name] = text
            score(page, text, result)
    return results


def _subset(result: Result, pages: list[Page]) -> Result:
    """``result`` restricted to ``pages`` (their snippets scored again, their times summed)."""
    return Result(pages=len(pages), seconds=sum(result.times.get(p.name, 0.0) for p in pages))


def rescore(pages: list[Page], direct: dict[str, Result]) -> dict[str, Result]:
    """Each extractor's figures on ``pages`` only (a part of the pages it ran on)."""
    rows = {name: _subset(result, pages) for name, result in direct.items()}
    for page in pages:
        for name, result in direct.items():
            score_snippets(page, result.texts[page.name], rows[name])
    return rows


def end_to_end(pages: list[Page], direct: dict[str, Result]) -> dict[str, Result]:
    """The real refresh on ``pages``, next to the direct calls on the same pages."""
    from extract_e2e import run_end_to_end

    texts, seconds, cpu, summary = run_end_to_end(pages)
    # CPU of the refresh process alone: its extraction workers are the forkserver's children,
    # which RUSAGE_CHILDREN does not count, so only the wall time is a fair figure.
    print(
        f"  newsdesk refresh: {seconds:.1f} s wall, {cpu:.1f} CPU s in the refresh process "
        f"(workers not counted); {summary}",
        file=sys.stderr,
    )
    rows = rescore(pages, direct)
    name = "newsdesk refresh, wall"
    rows[name] = Result(pages=len(pages), seconds=seconds)
    for page in pages:
        score_snippets(page, texts[page.name], rows[name])
    return rows


def _rows(results: dict[str, dict[str, Result]]) -> Iterator[list[str]]:
    for corpus, by_name in results.items():
        speed_base = by_name.get("trafilatura")
        for name, r in by_name.items():
            p, rc, f1 = r.token_scores() if corpus == "readability" else r.snippet_scores()
            speed = r.pages / r.seconds if r.seconds else 0.0
            ratio = (
                f"{speed / (speed_base.pages / speed_base.seconds):.2f}x"
                if speed_base and speed_base.seconds
                else "-"
            )
            yield [corpus, name, f"{p:.3f}", f"{rc:.3f}", f"{f1:.3f}", f"{speed:.1f}", ratio]
            yield from ()


def print_table(results: dict[str, dict[str, Result]]) -> None:
    head = ["corpus", "extractor", "precision", "recall", "F1", "pages/s", "speed vs trafilatura"]
    rows = [head, *_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(EXTRACTORS), help="repeatable")
    parser.add_argument("--corpus", action="append", choices=sorted(ARCHIVES), help="repeatable")
    parser.add_argument("--limit", type=int, default=0, help="first N pages of each corpus")
    parser.add_argument(
        "--split",
        choices=("all", "even", "odd"),
        default="all",
        help="trafilatura's corpus only: the even-indexed pages (sorted by URL; the tuning half),"
        " the odd-indexed ones (held out) or all",
    )
    parser.add_argument(
        "--end-to-end",
        type=int,
        default=300,
        metavar="N",
        help="also serve the first N pages of trafilatura's corpus (after --split) behind a feed on"
        " loopback and run the real `newsdesk refresh` on them (0: skip)",
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--dump", type=Path, help="write every extracted text here (JSON)")
    args = parser.parse_args(argv)
    loaders = {"trafilatura": trafilatura_pages, "readability": readability_pages}
    scorers = {"trafilatura": score_snippets, "readability": score_tokens}
    results: dict[str, dict[str, Result]] = {}
    e2e_source: list[Page] = []
    e2e_pages: list[Page] = []
    dump: dict[str, dict[str, dict[str, str]]] = {}
    for corpus in args.corpus or list(ARCHIVES):
        folder = unpack(ARCHIVES[corpus])
        if folder is None:
            print(f"{corpus}: {SHARED / (ARCHIVES[corpus] + '.tar.xz')} is absent; skipped.")
            continue
        pages = loaders[corpus](folder)
        if corpus == "trafilatura":
            pages = split(pages, args.split)
        pages = pages[: args.limit or None]
        if corpus == "trafilatura":
            e2e_source, e2e_pages = pages, pages[: args.end_to_end]
        print(f"{corpus}: {len(pages)} pages from {folder}", file=sys.stderr)
        extractors = {name: EXTRACTORS[name]() for name in args.only or list(EXTRACTORS)}
        for extract in extractors.values():
            extract(pages[0].body, pages[0].url)  # imports and lazy set-up are not timed
        results[corpus] = run_corpus(extractors, pages, scorers[corpus])
        for name, result in results[corpus].items():
            dump.setdefault(corpus, {})[name] = result.texts
            print(f"  {name}: {result.seconds:.1f} s, {result.failures} failures", file=sys.stderr)
    if args.split == "all" and "trafilatura" in results and not args.limit:
        for half, role in (("even", "tuning"), ("odd", "held out")):
            results[f"trafilatura, {half} half ({role})"] = rescore(
                split(e2e_source, half), results["trafilatura"]
            )
    if args.end_to_end and "trafilatura" in results:
        results[f"trafilatura, {args.split}, first {args.end_to_end}"] = end_to_end(
            e2e_pages, results["trafilatura"]
        )
    if not results:
        print("No corpus found: nothing measured (see ../shared/corpora/README.md).")
        return 0
    print_table(results)
    if args.json:
        figures = {
            c: {
                n: {
                    "scores": r.token_scores() if c == "readability" else r.snippet_scores(),
                    "pages": r.pages,
                    "seconds": r.seconds,
                    "failures": r.failures,
                }
                for n, r in by.items()
            }
            for c, by in results.items()
        }
        args.json.write_text(json.dumps(figures, indent=2))
    if args.dump:
        args.dump.write_text(json.dumps(dump, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
