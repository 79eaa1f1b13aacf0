"""Extracting the answer from the top passages, and its confidence."""
