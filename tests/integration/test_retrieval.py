from __future__ import annotations

import numpy as np

from qa.encode.embedding import QUERY
from qa.engine import Engine
from qa.query.analysis import analyze
from qa.retrieve.retrieval import demote_missing_names, naming_chunks, unit_best_similarity
from qa.settings import NameMatching
from tests.conftest import bundled_questions


def test_only_names_that_few_passages_carry_select_passages(engine: Engine) -> None:
    index = engine.index
    elysee = naming_chunks(index, analyze("Quelle est la position de l’Élysée ?", index.lexical).names)
    assert elysee and all("lysée" in index.chunks[cid].index_text for cid in elysee)
    # The briefing is about Chevening: a name in more than NameMatching.rare_share of the chunks selects nothing.
    chevening = analyze("Qui organise la rencontre de Chevening ?", index.lexical).names
    assert len(index.lexical.postings("words", "chevening")) > NameMatching.rare_share * len(index.chunks)
    assert chevening and naming_chunks(index, chevening) is None
    assert naming_chunks(index, []) is None


def test_passages_naming_none_of_the_names_are_scaled_down_and_reordered() -> None:
    fused = [(7, 1.0, {"words": 1}), (3, 0.95, {"words": 2}), (5, 0.5, {"words": 3})]
    assert demote_missing_names(fused, None) == fused
    demoted = demote_missing_names(fused, {3, 5})
    assert [cid for cid, _, _ in demoted] == [3, 7, 5]
    assert dict((cid, score) for cid, score, _ in demoted) == {3: 0.95, 7: NameMatching.missing_factor, 5: 0.5}


def test_lexical_scores_equal_bm25s_own_on_every_field(engine: Engine) -> None:
    lexical = engine.index.lexical
    for question in bundled_questions():
        query = analyze(question, lexical)
        for field in ("words", "chargrams", "unit_words", "unit_chargrams"):
            tokens = query.words if field.endswith("words") else query.chargrams
            tokens = tokens + tokens[:3]  # a token asked twice counts twice, as in bm25s
            ids = lexical.fields[field].get_tokens_ids(tokens)
            expected = lexical.fields[field].get_scores_from_ids(ids) if ids else 0.0
            assert np.allclose(lexical.scores(field, tokens), expected, atol=1e-5), (question, field)
    assert not lexical.scores("words", ["zzzz-absent"]).any()


def test_best_unit_similarity_of_a_few_chunks_equals_the_full_scan(engine: Engine) -> None:
    # Large corpora score the units of the other rankers' candidates only: the same maxima as a full scan.
    index = engine.index
    vector = engine.encoder.encode(["Quel est le rôle de l’OTAN ?"], role=QUERY)[0]
    every_unit = index.unit_vectors @ vector
    expected = {
        cid: float(every_unit[index.unit_offset[cid] : index.unit_offset[cid] + index.unit_count[cid]].max())
        for cid in range(len(index.chunks))
        if index.unit_count[cid]
    }
    candidates = np.array([40, 3, 7, 3, 12, len(index.chunks) - 1])
    found = unit_best_similarity(index, vector, candidates)
    assert set(found) == set(candidates.tolist()) & set(expected)
    assert all(abs(found[cid] - expected[cid]) < 1e-6 for cid in found)
    assert unit_best_similarity(index, vector, np.array([], dtype=np.int64)) == {}
