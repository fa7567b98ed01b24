"""Feed conformance: feedparser's test suite run against Newsdesk's parser.

feedparser's suite (``../shared/corpora/feedparser-suite.tar.xz`` beside the repository,
unpacked once into ``.cache/corpora/``) holds about 2,100 small documents. Each starts with a
comment giving a ``Description:`` and an ``Expect:`` line, a Python expression over
feedparser's result (``not bozo and entries[0]['title'] == 'Example'``).

For each document this benchmark

1. emulates feedparser's own harness: a file whose path contains ``http`` is "served" with the
   ``Header:`` lines of its comment (Content-Type defaults to ``text/xml``) from
   ``http://127.0.0.1:8097/<path>``; every other file is read without headers;
2. parses it with ``newsdesk.parse.parse_feed`` and maps the ``ParsedFeed`` onto a
   feedparser-shaped dict holding only the fields Newsdesk models (:mod:`conformance_map`);
3. decides from the expression's syntax tree whether every name and key it reads is one the
   mapping supports ("applicable"); only those are evaluated, with ``eval`` under empty
   builtins over that dict alone (the suite's own files, never anything else);
4. prints passed / applicable, split into exact passes and passes that differ only by one of
   Newsdesk's documented policies (docs/feed-conformance.md), then every failure with its
   reason, grouped by category.

Run: ``python benchmarks/bench_conformance.py [--json PATH] [--show-passes-by-policy]``.
Exits 0 when the corpus is absent (and says so).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import re
import sys
import tarfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conformance_map import POLICY_LOG, map_result, supported_path

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT.parent / "shared" / "corpora" / "feedparser-suite.tar.xz"
CACHE = ROOT / ".cache" / "corpora"
SUITE = CACHE / "feedparser-suite" / "tests"
CATEGORIES = ("wellformed", "illformed", "encoding", "entities", "json")
BASE_URL = "http://127.0.0.1:8097/"

_DESCRIPTION = re.compile(r"Description:\s*(.*?)\s*Expect:\s*(.*?)\s*-->", re.S)
_HEADER = re.compile(r"^Header:\s+([^:]+):(.*)$", re.M)
_SKIP_UNLESS = re.compile(r"SkipUnless:\s*(.*?)\n")
# Names an expression may read besides ``entries`` and ``feed`` (checked by walking its tree).
SAFE_NAMES = {"bozo", "len", "datetime"}


@dataclass(slots=True)
class Case:
    path: Path
    category: str
    description: str
    expect: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.relative_to(SUITE).as_posix()

    @property
    def url(self) -> str:
        return BASE_URL + "tests/" + self.name

    @property
    def over_http(self) -> bool:
        return "http" in self.name

    @property
    def content_type(self) -> str | None:
        if not self.over_http:
            return None
        return self.headers.get("content-type", "text/xml")


@dataclass(slots=True)
class Outcome:
    case: Case
    status: str  # pass, pass-policy, fail, n/a
    reason: str = ""
    policies: tuple[str, ...] = ()


def unpack() -> bool:
    """Unpack the suite into .cache/corpora once; False when the archive is absent."""
    if SUITE.is_dir():
        return True
    if not ARCHIVE.exists():
        return False
    CACHE.mkdir(parents=True, exist_ok=True)
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(CACHE, filter="data")
    return SUITE.is_dir()


def decode(data: bytes) -> str:
    """The text of a test file, as feedparser's harness reads its comment (BOMs, UTF-16/32)."""
    for bom, codec in (
        (b"\x00\x00\xfe\xff", "utf-32be"),
        (b"\xff\xfe\x00\x00", "utf-32le"),
        (b"\xfe\xff", "utf-16be"),
        (b"\xff\xfe", "utf-16le"),
        (b"\xef\xbb\xbf", "utf-8"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="ignore")
    for start, codec in (
        (b"\x00\x00\x00\x3c", "utf-32be"),
        (b"\x3c\x00\x00\x00", "utf-32le"),
        (b"\x00\x3c\x00\x3f", "utf-16be"),
        (b"\x3c\x00\x3f\x00", "utf-16le"),
    ):
        if data.startswith(start):
            return data.decode(codec, errors="ignore")
    return data.decode("utf-8", errors="ignore")


def load_cases() -> tuple[list[Case], list[Path]]:
    """Every test of the suite, and the files that hold no Description/Expect comment."""
    cases: list[Case] = []
    without: list[Path] = []
    for category in CATEGORIES:
        for path in sorted((SUITE / category).rglob("*")):
            if not path.is_file():
                continue
            text = decode(path.read_bytes())
            if category == "json":
                text = json.loads(text).get("__TEST__", "")
            match = _DESCRIPTION.search(text)
            if match is None:
                without.append(path)
                continue
            headers = {k.strip().lower(): v.strip() for k, v in _HEADER.findall(text)}
            cases.append(Case(path, category, match.group(1), match.group(2).strip(), headers))
    return cases, without


def _key_path(node: ast.expr) -> tuple[str, ...] | None:
    """``entries[0]['content'][0].value`` → ('entries', 'content', 'value'); integer indexes
    are dropped. None when the chain is not rooted at a plain name or uses a computed key."""
    keys: list[str] = []
    while True:
        if isinstance(node, ast.Name):
            return (node.id, *reversed(keys))
        if isinstance(node, ast.Attribute):
            keys.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                keys.append(index.value)
            elif not isinstance(index, ast.Constant | ast.UnaryOp | ast.Slice):
                return None
            node = node.value
        else:
            return None


def _reads(tree: ast.AST) -> list[tuple[str, ...]] | None:
    """Every key path the expression reads; None when it reads in a way we cannot follow
    (a method call other than .get/.has_key, a computed key...)."""
    paths: list[tuple[str, ...]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "has_key"):
                base = _key_path(func.value)
                first = node.args[0] if node.args else None
                if base is None or not (
                    isinstance(first, ast.Constant) and isinstance(first.value, str)
                ):
                    return None
                paths.append((*base, first.value))
            elif isinstance(func, ast.Attribute) and func.attr not in ("timedelta", "datetime"):
                return None
        elif isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                left = node.left
                if isinstance(op, ast.In | ast.NotIn) and isinstance(left, ast.Constant):
                    base = _key_path(right)
                    if base is not None and isinstance(left.value, str):
                        paths.append((*base, left.value))
        elif isinstance(node, ast.Attribute | ast.Subscript):
            path = _key_path(node)
            if path is not None:
                paths.append(path)
        elif isinstance(node, ast.Name):
            paths.append((node.id,))
    return paths


def applicable(case: Case) -> tuple[bool, str]:
    """Whether every name and key the Expect line reads is one the mapping supports."""
    if _SKIP_UNLESS.search(case.description):
        return False, "feedparser-specific SkipUnless"
    unmodelled = set(case.headers) - {"content-type"}
    if case.over_http and unmodelled:
        return False, f"uses HTTP headers Newsdesk does not read: {sorted(unmodelled)}"
    try:
        tree = ast.parse(case.expect, mode="eval")
    except SyntaxError:
        return False, "the Expect line is not a Python expression"
    paths = _reads(tree)
    if paths is None:
        return False, "reads through a call Newsdesk's mapping does not model"
    for path in paths:
        if path[0] in SAFE_NAMES and (len(path) == 1 or path[0] == "datetime"):
            continue
        if path[0] not in ("entries", "feed") or not supported_path(path):
            return False, "reads " + ".".join(path)
    return True, ""


def _globals() -> dict[str, Any]:
    """No builtins: only what SAFE_NAMES lets an applicable expression read."""
    return {"__builtins__": {}, "len": len, "datetime": datetime}


def evaluate(case: Case) -> Outcome:
    ok, why = applicable(case)
    if not ok:
        return Outcome(case, "n/a", why)
    namespace = map_result(case.path.read_bytes(), case.url, case.content_type)
    POLICY_LOG.clear()
    try:
        # The suite's own expressions, over a namespace of our mapped result only.
        passed = bool(eval(case.expect, _globals(), namespace))
    except (KeyError, IndexError, TypeError, AttributeError, NameError) as exc:
        return Outcome(case, "fail", f"{type(exc).__name__}: {exc}")
    if not passed:
        return Outcome(case, "fail", _explain(case, namespace))
    policies = tuple(sorted(set(POLICY_LOG)))
    return Outcome(case, "pass-policy" if policies else "pass", policies=policies)


def _explain(case: Case, namespace: dict[str, Any]) -> str:
    """The values the expression compared, read from our mapped result."""
    tree = ast.parse(case.expect, mode="eval")
    shown: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) or (isinstance(node, ast.Name) and node.id == "bozo"):
            target = node.left if isinstance(node, ast.Compare) else node
            source = ast.unparse(target)
            try:
                value = eval(source, _globals(), namespace)
            except Exception as exc:  # the reason itself: which read failed
                value = f"<{type(exc).__name__}>"
            shown.append(f"{source} = {value!r}"[:240])
    problems = namespace.get("_problems")
    if namespace.get("bozo") and problems:
        shown.append(f"problems: {problems}"[:240])
    return "; ".join(dict.fromkeys(shown))


def group_of(case: Case) -> str:
    """wellformed/<subfolder>, or the top folder."""
    parts = case.name.split("/")
    return "/".join(parts[:2]) if parts[0] == "wellformed" and len(parts) > 2 else parts[0]


def report(outcomes: list[Outcome], without: int, show_policy: bool) -> dict[str, Any]:
    by_status = Counter(o.status for o in outcomes)
    applicable_count = len(outcomes) - by_status["n/a"]
    passed = by_status["pass"] + by_status["pass-policy"]
    print(f"feedparser suite: {len(outcomes)} tests ({without} files without an Expect line)")
    print(f"applicable: {applicable_count}  (not applicable: {by_status['n/a']})")
    print(
        f"passed: {passed} / {applicable_count} = {100 * passed / max(applicable_count, 1):.1f}%"
        f"  (exact {by_status['pass']}, equal under a documented policy "
        f"{by_status['pass-policy']})"
    )
    policies = Counter(p for o in outcomes for p in o.policies)
    for policy, count in policies.most_common():
        print(f"  policy {policy}: {count}")
    per_category: dict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        per_category[o.case.category][o.status] += 1
    print("\nper category (pass / pass-policy / fail / n/a):")
    for category, counts in sorted(per_category.items()):
        print(
            f"  {category:12} {counts['pass']:5} {counts['pass-policy']:5} "
            f"{counts['fail']:5} {counts['n/a']:5}"
        )
    failures = [o for o in outcomes if o.status == "fail"]
    print(f"\nfailures ({len(failures)}), grouped by category:")
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in failures:
        groups[group_of(o.case)].append(o)
    for group, items in sorted(groups.items()):
        print(f"\n[{group}] {len(items)}")
        for o in items:
            print(f"  {o.case.name}: {o.case.description}")
            print(f"    expect: {o.case.expect}")
            print(f"    got:    {o.reason}")
    if show_policy:
        print("\npasses under a policy:")
        for o in outcomes:
            if o.status == "pass-policy":
                print(f"  {o.case.name} [{', '.join(o.policies)}]: {o.case.expect}")
    return {
        "tests": len(outcomes),
        "applicable": applicable_count,
        "passed": passed,
        "passed_exact": by_status["pass"],
        "passed_policy": by_status["pass-policy"],
        "policies": dict(policies),
        "failures": [{"test": o.case.name, "reason": o.reason} for o in failures],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--show-passes-by-policy", action="store_true")
    parser.add_argument("--only", help="run only the tests whose path contains this")
    args = parser.parse_args(argv)
    if not unpack():
        print(f"feedparser's suite is absent ({ARCHIVE} not found): nothing to measure.")
        return 0
    cases, without = load_cases()
    if args.only:
        cases = [case for case in cases if args.only in case.name]
    outcomes = [evaluate(case) for case in cases]
    figures = report(outcomes, len(without), args.show_passes_by_policy)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
