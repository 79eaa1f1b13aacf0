"""One analysis of the question: cleaning, spelling, expanders, answer type, follow-ups."""
