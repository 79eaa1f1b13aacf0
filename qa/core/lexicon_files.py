"""Reading the word lists of ``qa/lexicons/`` (TSV, optionally gzipped, ``#`` lines are their header)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

from qa.settings import LEXICONS_DIR


def rows(relative_path: str) -> Iterator[list[str]]:
    """The tab-separated fields of each line of a lexicon file, its header left out."""
    path = LEXICONS_DIR / relative_path
    data = path.read_bytes()
    text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split("\t")
