from __future__ import annotations

from qa.core import lexicon_files
from qa.core.text import fold
from qa.query.glossary import translations


def test_inflected_and_irregular_english_forms_find_their_french() -> None:
    found = translations("Who led the negotiations? Were talks held at the summit?")
    assert fold("mener") in found["led"]  # irregular past, brought back to "lead"
    assert "tenir" in found["held"]
    assert "sommet" in found["summit"]
    assert "who" not in found and "the" not in found  # words of no topic are not translated


def test_french_words_are_not_translated() -> None:
    assert translations("Où se tient la réunion des conseillers ?") == {}


def test_every_lexicon_file_states_its_source_and_licence() -> None:
    from qa.settings import LEXICONS_DIR

    files = [p for p in LEXICONS_DIR.rglob("*") if p.suffix in (".tsv", ".gz")]
    assert len(files) >= 6
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".gz":
            import gzip

            data = gzip.decompress(data)
        header = "\n".join(line for line in data.decode("utf-8").splitlines() if line.startswith("#"))
        assert "Source:" in header and "Licence:" in header, path
        assert list(lexicon_files.rows(str(path.relative_to(LEXICONS_DIR)))), path
