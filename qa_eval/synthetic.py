"""Synthetic corpora for scale measurements, made from a briefing's own sentences.

Sentences are cut in two at a word boundary and recombined across the corpus (the first half
of one with the second half of another), then shuffled into paragraphs of a few sentences: the
vocabulary and sentence shapes stay French and on topic, but nearly every sentence and
paragraph is new, so embedding and indexing cost what they would on a real corpus. One
paragraph becomes one chunk (paragraphs stay under the chunk size), so the number of chunks
is chosen exactly.

Embedding is most of the build (MiniLM runs at ~100 GFLOP/s here: ~25 chunks/s with their
units), so 100 000 chunks would take over an hour. For sizes where only the query side is
measured, ``recombine=False`` shuffles whole sentences, and ``SentenceMeanEncoder`` gives each
chunk the mean of its sentences' real embeddings, each distinct sentence encoded once: vectors
with the geometry of real ones (for ANN recall and latency) at a fraction of the cost.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np

from qa.encode.embedding import PASSAGE, Encoder
from qa.ingest.chunking import sentence_spans
from qa.ingest.reader import read_corpus

PARAGRAPHS_PER_FILE = 1000
MAX_PARAGRAPH_CHARS = 600


def source_sentences(corpus_dir: Path) -> list[str]:
    documents, _problems = read_corpus(corpus_dir)
    sentences = []
    for doc in documents:
        for element in doc.elements:
            text = doc.text[element.start : element.end]
            for span in sentence_spans(text):
                sentence = " ".join(text[span.start : span.end].split())
                if len(sentence.split()) >= 6:
                    sentences.append(sentence)
    if not sentences:
        raise ValueError(f"no sentence of six words or more in {corpus_dir}")
    return sentences


def recombined_sentence(sentences: list[str], rng: random.Random) -> str:
    head = rng.choice(sentences).split()
    tail = rng.choice(sentences).split()
    cut_head = rng.randint(2, max(2, len(head) - 2))
    cut_tail = rng.randint(1, max(1, len(tail) - 2))
    text = " ".join(head[:cut_head] + tail[cut_tail:])
    return text if text.endswith((".", "?", "!")) else text + "."


def write_corpus(source_dir: Path, target_dir: Path, chunks: int, seed: int = 0, recombine: bool = True) -> int:
    """Write ``chunks`` paragraphs as .txt files under target_dir; returns the number written."""
    rng = random.Random(seed)
    sentences = source_sentences(source_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    file_number = 0
    while written < chunks:
        count = min(PARAGRAPHS_PER_FILE, chunks - written)
        paragraphs = []
        for _ in range(count):
            parts: list[str] = []
            while not parts or (len(" ".join(parts)) < 250 and len(parts) < 6):
                parts.append(recombined_sentence(sentences, rng) if recombine else rng.choice(sentences))
            paragraphs.append(" ".join(parts)[:MAX_PARAGRAPH_CHARS].rsplit(" ", 1)[0].rstrip(".") + ".")
        # A title line first: the reader takes it as the document title, not as a paragraph.
        title = f"Synthèse {file_number + 1} : sécurité européenne et Ukraine"
        (target_dir / f"synthetic-{file_number:05d}.txt").write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n")
        written += count
        file_number += 1
    return written


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class SentenceMeanEncoder:
    """Each text's vector is the normalised mean of its sentences' vectors from a real encoder,
    each distinct sentence encoded once (scale runs only: see the module docstring)."""

    backend = "sentence-means"

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.model_name = encoder.model_name
        self.dimension = encoder.dimension
        self._cache: dict[str, np.ndarray] = {}

    def encode(
        self,
        texts: list[str],
        *,
        role: str = PASSAGE,
        batch_size: int = 64,
        show_progress: bool = False,
        all_threads: bool = True,
    ) -> np.ndarray:
        split = [[s for s in _SENTENCE_END.split(text) if s.strip()] or [text] for text in texts]
        new = list(dict.fromkeys(s for parts in split for s in parts if s not in self._cache))
        fresh = self.encoder.encode(new, role=role, batch_size=batch_size, show_progress=show_progress)
        for sentence, vector in zip(new, fresh, strict=True):
            self._cache[sentence] = vector
        vectors = np.stack([np.mean([self._cache[s] for s in parts], axis=0) for parts in split]).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
