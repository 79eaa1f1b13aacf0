"""Building, storing and opening the index: chunks, BM25 fields and FAISS vectors."""
