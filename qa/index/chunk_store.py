"""The chunks of a built index, read from disk when they are asked for.

Holding every chunk (its text, its indexed text, its units) as Python objects took 350 MB of
the serving process at 100 000 chunks, while a question reads a few dozen. ``chunks.jsonl``
holds one chunk a line; ``chunk-lines.npy`` where each line starts. The file is memory-mapped,
and a chunk is parsed when first asked for and kept in a bounded cache.

>>> import tempfile
>>> from qa.core.model import Chunk
>>> folder = Path(tempfile.mkdtemp())
>>> write([Chunk(0, "a.txt", 0, 5, "Salut", "", 0, "paragraph", (), "Salut")], folder)
>>> store = ChunkStore.open(folder)
>>> len(store), store[0].text, store[-1].doc
(1, 'Salut', 'a.txt')
"""

from __future__ import annotations

import functools
import json
import mmap
import operator
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from qa.core.model import Chunk

LINES_FILE = "chunks.jsonl"
OFFSETS_FILE = "chunk-lines.npy"
UNIT_COUNTS_FILE = "chunk-unit-counts.npy"
CACHED_CHUNKS = 4096  # a few questions' worth of passages at any corpus size; the briefing entirely


def write(chunks: Sequence[Chunk], folder: Path) -> None:
    """Write the chunks, the offsets of their lines and their unit counts into folder."""
    offsets = [0]
    with (folder / LINES_FILE).open("wb") as handle:
        for chunk in chunks:
            line = json.dumps(chunk.to_json(), ensure_ascii=False).encode("utf-8") + b"\n"
            handle.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(folder / OFFSETS_FILE, np.array(offsets, dtype=np.int64), allow_pickle=False)
    np.save(folder / UNIT_COUNTS_FILE, np.array([len(c.units) for c in chunks], dtype=np.int64), allow_pickle=False)


def unit_counts(folder: Path) -> np.ndarray:
    """How many units each chunk has, without reading the chunks."""
    return np.load(folder / UNIT_COUNTS_FILE, allow_pickle=False)


class ChunkStore(Sequence[Chunk]):
    """A read-only sequence of the index's chunks; safe to read from many threads."""

    def __init__(self, lines: bytes | mmap.mmap, offsets: np.ndarray) -> None:
        self._lines = lines
        self._offsets = offsets.tolist()
        self._parsed = functools.lru_cache(maxsize=CACHED_CHUNKS)(self._parse)

    @classmethod
    def open(cls, folder: Path) -> ChunkStore:
        offsets = np.load(folder / OFFSETS_FILE, allow_pickle=False)
        with (folder / LINES_FILE).open("rb") as handle:
            # An empty file cannot be mapped (a corpus with no chunk).
            lines = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if offsets[-1] else b""
        if len(lines) != offsets[-1]:
            raise ValueError(f"{LINES_FILE} has {len(lines)} bytes, its offsets say {offsets[-1]}")
        return cls(lines, offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, position: int) -> Chunk: ...

    @overload
    def __getitem__(self, position: slice) -> list[Chunk]: ...

    def __getitem__(self, position: int | slice) -> Chunk | list[Chunk]:
        if isinstance(position, slice):
            return [self._parsed(i) for i in range(*position.indices(len(self)))]
        i = operator.index(position)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"chunk {position} out of range ({len(self)} chunks)")
        return self._parsed(i)

    def __iter__(self) -> Iterator[Chunk]:
        # Every chunk once, without filling the cache with them.
        for i in range(len(self)):
            yield self._parse(i)

    def _parse(self, i: int) -> Chunk:
        return Chunk.from_json(json.loads(self._lines[self._offsets[i] : self._offsets[i + 1]]))
