"""Measuring and fitting briefing-qa: the quality and performance benchmarks, question files,
synthetic corpora, the load generator, and the fitting of the learned stages. The server never
imports this package."""
