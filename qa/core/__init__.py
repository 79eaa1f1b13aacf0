"""The nouns, text normalisation and logging every stage shares."""
