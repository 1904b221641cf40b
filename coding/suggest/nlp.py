"""The shared spaCy pipeline: blank English, a sentencizer and a lookup lemmatizer. Offline.

Nothing is downloaded: ``spacy.blank("en")`` brings the tokenizer, the ``sentencizer`` is rule-based
and the lemma table comes from the installed ``spacy-lookups-data`` package. The stock lookup
lemmatizer looks up ``token.text``, so "Attuning" at the start of a sentence would keep its form;
ours looks up the lower-case form instead, so every lemma is lower case and matching ignores case.

The lemmatizer is a per-token Python loop, most of the cost of matching. :func:`surface_forms`
inverts the same lookup table (every lower-case form that lemmatises to a lemma), so the rules
engine matches on ``LOWER`` after the tokenizer alone (:func:`token_docs`), with the same hits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib.metadata import version

import spacy
import spacy.about
from spacy.language import Language
from spacy.pipeline import Lemmatizer
from spacy.tokens import Doc, Token
from spacy.util import load_language_data, registry

LEMMATIZER_FACTORY = "concord_lower_lookup_lemmatizer"
LEMMA_TABLE = "lemma_lookup"
BATCH_SIZE = 512

#: Part of every model_version: a change of spaCy or of the lemma table changes the matches.
PIPELINE_VERSION = f"spacy-{spacy.about.__version__}+lookups-{version('spacy-lookups-data')}"


class LowerCaseLookupLemmatizer(Lemmatizer):
    """A lookup-mode lemmatizer that looks up the lower-case form of each token."""

    def lookup_lemmatize(self, token: Token) -> list[str]:
        table = self.lookups.get_table(LEMMA_TABLE, {})
        lower = token.lower_
        return [str(table.get(lower, lower))]


if LEMMATIZER_FACTORY not in Language.factories:

    @Language.factory(
        LEMMATIZER_FACTORY,
        assigns=["token.lemma"],
        default_config={
            "model": None,
            "mode": "lookup",
            "overwrite": True,
            "scorer": {"@scorers": "spacy.lemmatizer_scorer.v1"},
        },
    )
    def _make_lemmatizer(
        nlp: Language,
        model: None,
        name: str,
        mode: str,
        overwrite: bool,
        scorer: Callable[..., object] | None,
    ) -> LowerCaseLookupLemmatizer:
        return LowerCaseLookupLemmatizer(
            nlp.vocab, model, name, mode=mode, overwrite=overwrite, scorer=scorer
        )


@functools.cache
def pipeline() -> Language:
    """The cached pipeline: ``spacy.blank("en")`` + ``sentencizer`` + lookup ``lemmatizer``.

    Shared by every engine in the process (the UI caches it with ``st.cache_resource``).

    >>> [t.lemma_ for t in pipeline()("Attuned to the cues")]
    ['attune', 'to', 'the', 'cue']
    """
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(LEMMATIZER_FACTORY, name="lemmatizer")
    nlp.initialize()
    return nlp


def lemmatise(text: str) -> tuple[str, ...]:
    """The lower-case lemmas of a short text, one per token.

    >>> lemmatise("Attuning to cues")
    ('attune', 'to', 'cue')
    """
    return tuple(t.lemma_ for t in pipeline()(text, disable=["sentencizer"]))


def lemma_docs(texts: Iterable[str], batch_size: int = BATCH_SIZE) -> Iterator[Doc]:
    """Tokenise and lemmatise many texts in batches; sentences are left to :func:`sentences`."""
    return pipeline().pipe(texts, batch_size=batch_size, disable=["sentencizer"])


def token_docs(texts: Iterable[str]) -> Iterator[Doc]:
    """Tokenise many texts, no lemmas: the same tokens as :func:`lemma_docs`, several times faster.

    >>> [t.lower_ for t in next(token_docs(["Attuned to the cues."]))]
    ['attuned', 'to', 'the', 'cues', '.']
    """
    return map(pipeline().make_doc, texts)


@functools.cache
def _lemma_table() -> Mapping[str, str]:
    """The lemma lookup table as strings (spaCy's own table keeps only hashes of its keys).

    Loaded the way spaCy's lemmatizer loads it, from the ``spacy-lookups-data`` entry point.
    """
    data = load_language_data(registry.lookups.get("en")[LEMMA_TABLE])
    if not isinstance(data, dict):
        raise TypeError(f"the {LEMMA_TABLE} table is not a mapping")
    return {str(form): str(lemma) for form, lemma in data.items()}


@functools.cache
def _forms_by_lemma() -> Mapping[str, frozenset[str]]:
    inverse: dict[str, set[str]] = {}
    for form, lemma in _lemma_table().items():
        if form == form.lower():  # token.lower_ never has capitals: other keys never match
            inverse.setdefault(lemma, set()).add(form)
    return {lemma: frozenset(forms) for lemma, forms in inverse.items()}


@functools.cache
def surface_forms(lemma: str) -> frozenset[str]:
    """Every lower-case token text that our lemmatizer maps to ``lemma``.

    A token matches the lemma exactly when its ``lower_`` is in this set: the table's forms of
    the lemma, plus the lemma itself unless the table maps it to something else.

    >>> sorted(surface_forms("attune")), sorted(surface_forms("cue"))
    (['attune', 'attuned', 'attunes', 'attuning'], ['cue', 'cued', 'cueing', 'cues', 'cuing'])
    """
    forms = set(_forms_by_lemma().get(lemma, ()))
    if lemma not in _lemma_table():
        forms.add(lemma)  # a word the table does not know is its own lemma
    return frozenset(forms)


def sentences(doc: Doc) -> list[tuple[int, int]]:
    """Sentence boundaries of a doc as token ranges, running the sentencizer on demand.

    >>> sentences(next(lemma_docs(["One. Two two."])))
    [(0, 2), (2, 5)]
    """
    if not doc.has_annotation("SENT_START"):
        doc = pipeline().get_pipe("sentencizer")(doc)
    return [(s.start, s.end) for s in doc.sents]
