"""The rankers, their fusion, and the learned re-ranker."""
