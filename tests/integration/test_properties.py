"""Property-based tests: for arbitrary documents and questions, nothing escapes and offsets stay exact."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.answer.reply import to_json
from qa.engine import Engine, QuestionError
from qa.ingest.chunking import chunk_document
from qa.ingest.reader import read_text

# Characters that drive the reader's decisions, plus hostile ones: RTL and zero-width marks, emoji,
# control characters, markup.
PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        "\r\n",
        "  • ",
        "- ",
        "1. ",
        "# ",
        "## ",
        "| a | b |\n",
        "|---|---|\n",
        "?",
        ".",
        ":",
        " ",
        "Questions fréquentes\n\n",
        "Retour en haut",
        "Qui ?",
        "L’OTAN",
        "é",
        "œ",
        "\u200b",
        "\u202e",
        "😀",
        "<script>alert(1)</script>",
        "\x00",
        "\t",
        "M. Dupont.",
        "«",
        "»",
        "…",
    ]
)
TEXTS = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.integers(min_value=20, max_value=400))
def test_reader_and_chunker_never_fail_and_stay_verbatim(text: str, chunk_size: int) -> None:
    doc = read_text("x.md", text)
    for element in doc.elements:
        assert text[element.start : element.end] == element.text
    for chunk in chunk_document(doc, chunk_size):
        assert text[chunk.start : chunk.end] == chunk.text
        for unit in chunk.units:
            assert chunk.start <= unit.start < unit.end <= chunk.end


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.one_of(TEXTS, st.text(max_size=200)))
def test_answering_never_fails_and_quotes_verbatim(engine: Engine, question: str) -> None:
    try:
        reply = to_json(engine.ask(question, k=3))
    except QuestionError:
        return
    assert 0.0 <= reply["confidence"] <= 1.0
    for item in [*reply["answer"], *reply["passages"]]:
        assert engine.index.documents[item["doc"]][item["start"] : item["end"]] == item["text"]
