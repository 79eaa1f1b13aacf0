"""briefing-qa: extractive, cited question answering over a briefing (FAISS + French BM25)."""

__version__ = "0.1.0"
