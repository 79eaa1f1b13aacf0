"""``briefing-qa fit``: fit the learned stages and the confidence model, cross-validated by document.

What it is fitted on (all of it tuning data; nothing of the bundled test part):

- PIAF dev (``benchmarks/piaf-dev``): span-located questions over 93 French Wikipedia articles;
- the tuning part of the bundled set (``benchmarks/briefing/tune.jsonl``), over the briefing;
- natural out-of-scope questions: questions about other documents asked of a corpus that lacks
  them (PIAF questions asked of the briefing, the briefing's questions asked of PIAF, PIAF
  questions about one half of its articles asked of the other half), and the tuning part's own
  out-of-scope questions.

Every question belongs to a group, its document (the briefing is one group); groups are split
into folds, and every figure it reports for a question comes from models fitted without that
question's document: the re-ranker, then the unit selector on the re-ranker's held-out order,
then the confidence model on both. The final models are then fitted on everything and written
with their features, their data and those cross-validated figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from qa.answer import confidence
from qa.answer.confidence import Calibration
from qa.answer.extraction import answer_first, answer_from, extracts_for, kind_not_given, score_units, select_units
from qa.answer.reply import extract_to_json, passage_to_json
from qa.core.model import Passage
from qa.core.pipeline import Pipeline, Work
from qa.encode.embedding import Encoder, encoder_for
from qa.engine import AFTER_RERANKING, Engine
from qa.query.analysis import clean
from qa.retrieve.learned import (
    PASSAGE_FEATURES,
    UNIT_FEATURES,
    LearnedModel,
    passage_features,
    rerank,
    unit_features,
)
from qa.settings import CALIBRATION_NAME, RERANKER_NAME, UNIT_SELECTOR_NAME, Settings, learned_dir
from qa_eval import metrics
from qa_eval.questions import BenchQuestion, load_questions

log = logging.getLogger(__name__)

BRIEFING_GROUP = "chevening-briefing"
FOLDS = 5
SEED = 20261201
# Out-of-scope questions drawn from other documents (each source at most this many).
OOS_SAMPLE = 400

RERANKER_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [1, 3],
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "lambdarank_truncation_level": 10,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "seed": SEED,
    "verbose": -1,
}
UNIT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "seed": SEED,
    "verbose": -1,
}
ROUNDS = 200


@dataclass
class Row:
    """One question asked of one corpus, with what the fixed (unlearned) stages made of it."""

    source: str  # piaf, briefing, piaf-on-briefing, briefing-on-piaf, piaf-other-half, briefing-oos
    group: str  # the document it is about: its fold
    question: BenchQuestion
    engine: Engine
    work: Work | None = None  # the question through the engine's fixed (unlearned) retrieval stages
    fused: list[Passage] = field(default_factory=list)
    passage_matrix: np.ndarray | None = None
    passage_labels: np.ndarray | None = None
    reranked: list[Passage] = field(default_factory=list)
    unit_matrix: np.ndarray | None = None
    unit_labels: np.ndarray | None = None
    answer: Any = None
    fold: int = -1
    weight: int = 1  # copies of the row in every training set (readers' questions count more)
    held_out_confidence: float = 0.0  # from the confidence model fitted on the other folds

    @property
    def answerable(self) -> bool:
        return self.question.answerable


def _engine(corpus: Path, index_dir: Path, settings: Settings, encoder: Encoder) -> Engine:
    return Engine(replace(settings, corpus_dir=corpus.resolve(), index_dir=index_dir.resolve()), encoder=encoder)


def _other_half(piaf_corpus: Path, work: Path, documents: list[str]) -> tuple[Path, set[str]]:
    """A corpus of half of PIAF's articles (seeded), copied under work: the other half's questions are out of scope."""
    rng = random.Random(SEED)
    chosen = sorted(rng.sample(sorted(documents), len(documents) // 2))
    folder = work / "piaf-half"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in chosen:
        shutil.copyfile(piaf_corpus / name, folder / name)
    return folder, set(chosen)


def _oos(question: BenchQuestion, prefix: str) -> BenchQuestion:
    return BenchQuestion(f"{prefix}:{question.id}", question.question, (), "oos", ())


def _weighted(rows: list[Row]) -> list[Row]:
    """The training rows, each as many times as its weight."""
    return [row for row in rows for _ in range(row.weight)]


def _reader_rows(readers: Path | None, briefing: Engine, piaf: Engine, weight: int) -> list[Row]:
    """Questions as readers ask them (benchmarks/readers/): on the briefing and on PIAF dev's articles."""
    if readers is None:
        return []
    rows = []
    for name, engine, source in (
        ("briefing.jsonl", briefing, "readers-briefing"),
        ("piaf-dev.jsonl", piaf, "readers-piaf"),
    ):
        path = readers / name
        if not path.is_file():
            continue
        for q in load_questions(path, engine.index.documents):
            own_group = q.spans[0].doc if q.answerable else f"{source}:{q.id}"  # an unanswered one: its own
            group = BRIEFING_GROUP if engine is briefing else own_group
            rows.append(Row(source if q.answerable else f"{source}-oos", group, q, engine, weight=weight))
    return rows


def gather_rows(
    settings: Settings,
    piaf_questions: Path,
    piaf_corpus: Path,
    tune: Path,
    work: Path,
    without: tuple[str, ...] = (),
    readers: Path | None = None,
    reader_weight: int = 1,
) -> list[Row]:
    encoder = encoder_for(settings)
    briefing = Engine(settings, encoder=encoder)
    piaf = _engine(piaf_corpus, work / "index-piaf", settings, encoder)
    piaf_set = load_questions(piaf_questions, piaf.index.documents)
    tune_set = load_questions(tune, briefing.index.documents)
    half_corpus, half_docs = _other_half(piaf_corpus, work, list(piaf.index.documents))
    half = _engine(half_corpus, work / "index-piaf-half", settings, encoder)

    rng = random.Random(SEED)
    rows = [Row("piaf", q.spans[0].doc, q, piaf) for q in piaf_set]
    rows += [Row("briefing" if q.answerable else "briefing-oos", BRIEFING_GROUP, q, briefing) for q in tune_set]
    rows += [
        Row("piaf-on-briefing", q.spans[0].doc, _oos(q, "on-briefing"), briefing)
        for q in rng.sample(piaf_set, min(OOS_SAMPLE, len(piaf_set)))
    ]
    rows += [Row("briefing-on-piaf", BRIEFING_GROUP, _oos(q, "on-piaf"), piaf) for q in tune_set if q.answerable]
    outside = [q for q in piaf_set if q.spans[0].doc not in half_docs]
    rows += [
        Row("piaf-other-half", q.spans[0].doc, _oos(q, "other-half"), half)
        for q in rng.sample(outside, min(OOS_SAMPLE, len(outside)))
    ]
    rows += _reader_rows(readers, briefing, piaf, reader_weight)
    for row in tqdm(rows, desc="retrieve", unit="q", file=sys.stderr):
        _retrieve(row, without)
    return rows


def _fixed_stages(pipeline: Pipeline, without: tuple[str, ...] = ()) -> Pipeline:
    """The engine's stages up to the re-ranker, without the learned ones (refitted here), those that
    re-order its output (applied after it, see _after_reranking) and those ``without`` names."""
    for learned in ("reranker", "unit_selector", *AFTER_RERANKING, *without):
        if learned in pipeline.names():
            pipeline = pipeline.without(learned)
    return pipeline.until("unit_scoring")


def _after_reranking(row: Row) -> None:
    """The engine's non-learned re-orderings of the re-ranked passages, as the engine runs them."""
    pipeline, work = row.engine.pipeline, row.work
    assert work is not None
    work.passages = row.reranked
    for name in AFTER_RERANKING:
        if name in pipeline.names():
            pipeline.stage(name).run(work)
    row.reranked = work.passages


def _retrieve(row: Row, without: tuple[str, ...] = ()) -> None:
    engine, index = row.engine, row.engine.index
    text, truncated = clean(row.question.question)
    work = Work(index, text, None, truncated, k=10, depth=engine.settings.candidates, all_threads=True)
    _fixed_stages(engine.pipeline, without).run(work)
    row.work, row.fused = work, work.passages
    depth = min(engine.settings.rerank_depth, len(row.fused))
    row.passage_matrix = passage_features(index, work.query, work.query_vector, row.fused[:depth])
    row.passage_labels = np.array(
        [row.answerable and metrics.is_relevant(_span_of(p), row.question.spans) for p in row.fused[:depth]], dtype=int
    )


def _span_of(passage: Passage) -> dict[str, Any]:
    return {"doc": passage.chunk.doc, "start": passage.chunk.start, "end": passage.chunk.end}


def assign_folds(rows: list[Row]) -> None:
    from sklearn.model_selection import GroupKFold

    groups = np.array([row.group for row in rows])
    for fold, (_, test) in enumerate(GroupKFold(n_splits=FOLDS).split(np.zeros(len(rows)), groups=groups)):
        for i in test:
            rows[i].fold = fold


def _train_reranker(rows: list[Row]) -> LearnedModel | None:
    import lightgbm

    useful = [r for r in rows if r.answerable and r.passage_labels is not None and r.passage_labels.any()]
    if not useful:
        return None
    data = lightgbm.Dataset(
        np.vstack([r.passage_matrix for r in useful]),
        label=np.concatenate([r.passage_labels for r in useful]),
        group=[len(r.passage_labels) for r in useful],
        feature_name=list(PASSAGE_FEATURES),
        free_raw_data=True,
    )
    booster = lightgbm.train(RERANKER_PARAMS, data, num_boost_round=ROUNDS)
    return LearnedModel.from_booster("reranker", PASSAGE_FEATURES, booster, params=RERANKER_PARAMS)


def _train_units(rows: list[Row]) -> LearnedModel | None:
    import lightgbm

    useful = [r for r in rows if r.answerable and r.unit_labels is not None and len(r.unit_labels)]
    if not useful:
        return None
    if UNIT_PARAMS["objective"] == "lambdarank":  # units ranked within their question
        useful = [r for r in useful if r.unit_labels.any()]
    data = lightgbm.Dataset(
        np.vstack([r.unit_matrix for r in useful]),
        label=np.concatenate([r.unit_labels for r in useful]),
        group=[len(r.unit_labels) for r in useful] if UNIT_PARAMS["objective"] == "lambdarank" else None,
        feature_name=list(UNIT_FEATURES),
    )
    booster = lightgbm.train(UNIT_PARAMS, data, num_boost_round=ROUNDS)
    return LearnedModel.from_booster("unit-selector", UNIT_FEATURES, booster, params=UNIT_PARAMS)


def _apply_reranker(rows: list[Row], model: LearnedModel | None) -> None:
    for row in rows:
        raw = model.predict(row.passage_matrix) if model is not None else None
        row.reranked = rerank(row.fused, raw) if raw is not None else row.fused
        _after_reranking(row)
        _unit_rows(row)


def _unit_rows(row: Row) -> None:
    index, work = row.engine.index, row.work
    assert work is not None
    scored = score_units(index, work.query, work.query_vector, row.reranked, row.engine.settings.unit_scoring)
    row.unit_matrix = unit_features(index, work.query, scored)
    # A unit is a positive when it holds the answer itself, not through the sentence before that its
    # extract also quotes: labelled so, the selector cost out-of-scope abstention (docs/quality.md).
    row.unit_labels = np.array(
        [
            row.answerable
            and any(
                metrics.extract_is_correct(extract_to_json(e), row.question.spans)
                for e in extracts_for(index, s, antecedent=False)
            )
            for s in scored
        ],
        dtype=int,
    )


def _apply_units(rows: list[Row], model: LearnedModel | None, max_extracts: int) -> None:
    placeholder = Calibration.unfitted()  # the confidence is refitted below: only the features matter here
    for row in rows:
        index, work = row.engine.index, row.work
        assert work is not None
        scoring = row.engine.settings.unit_scoring
        scored = score_units(index, work.query, work.query_vector, row.reranked, scoring)
        if model is not None and scored:
            scored = select_units(index, work.query, scored, model)
        ratio = scoring.second_extract_ratio
        row.answer = answer_from(index, work.query, row.reranked, scored, placeholder, max_extracts, ratio)


def cross_validate(rows: list[Row], settings: Settings) -> dict[str, Any]:
    """Held-out answers for every row: each from models fitted on the other folds."""
    for fold in tqdm(range(FOLDS), desc="cross-validate", unit="fold", file=sys.stderr):
        train = [r for r in rows if r.fold != fold]
        test = [r for r in rows if r.fold == fold]
        _apply_reranker(test, _train_reranker(_weighted(train)))
    for fold in range(FOLDS):
        train = [r for r in rows if r.fold != fold]
        test = [r for r in rows if r.fold == fold]
        _apply_units(test, _train_units(_weighted(train)), settings.max_extracts)
    probabilities = _confidence_held_out(rows)
    for row, probability in zip(rows, probabilities, strict=True):
        row.held_out_confidence = float(probability)
    return _report(rows, probabilities, settings.abstain_below)


def write_replies(rows: list[Row], threshold: float, path: Path) -> None:
    """Each row's held-out reply as a JSON line (source, id, question, confidence, reply): what the
    cross-validated figures were computed from, for reading the misses."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            reply = reply_of(row, row.held_out_confidence, threshold)
            line = {
                "source": row.source,
                "id": row.question.id,
                "question": row.question.question,
                "confidence": round(row.held_out_confidence, 4),
                **reply,
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def _confidence_held_out(rows: list[Row]) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    matrix = confidence.feature_matrix([r.answer.features for r in rows])
    labels = np.array([int(r.answerable) for r in rows])
    weights = np.array([r.weight for r in rows], dtype=float)
    groups = np.array([r.group for r in rows])
    probabilities = np.zeros(len(rows))
    for train, test in GroupKFold(n_splits=FOLDS).split(matrix, labels, groups):
        model = confidence.new_model().fit(matrix[train], labels[train], sample_weight=weights[train])
        probabilities[test] = model.predict_proba(matrix[test])[:, 1]
    return probabilities


def reply_of(row: Row, probability: float, threshold: float) -> dict[str, Any]:
    """The reply the engine would give with these models and this confidence (answer-first order included)."""
    answer = row.answer
    assert row.work is not None
    not_given = kind_not_given(row.work.query, answer.extracts, row.engine.settings.required_answer_kinds)
    answered = bool(answer.extracts) and probability >= threshold and not not_given
    passages, extracts = list(row.reranked), answer.extracts
    if extracts:
        passages, extracts = answer_first(passages, extracts)
    return {
        "answered": answered,
        "answer": [extract_to_json(e) for e in extracts] if answered else [],
        "passages": [passage_to_json(p) for p in passages[:10]],
    }


def _report(rows: list[Row], probabilities: np.ndarray, threshold: float) -> dict[str, Any]:
    by_source: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_source.setdefault(row.source, []).append(i)
    report = {}
    for source, picked in sorted(by_source.items()):
        questions = [rows[i].question for i in picked]
        replies = [reply_of(rows[i], float(probabilities[i]), threshold) for i in picked]
        scored = metrics.score(questions, replies, [0.0] * len(picked))
        scored.pop("latency_ms")
        report[source] = scored
    return report


def fit_final(rows: list[Row], settings: Settings, report: dict[str, Any], description: str) -> None:
    """Fit every stage on all rows and write the model files with their cross-validated report."""
    reranker = _train_reranker(_weighted(rows))
    # The unit selector learns from the re-ranker's held-out order, and the confidence model from the
    # held-out answers: as the models will meet unseen questions, not as they fit their own data.
    units = _train_units(_weighted(rows))
    confidence_model = confidence.fit(
        [r.answer.features for r in rows], [r.answerable for r in rows], description, [r.weight for r in rows]
    )
    folder = learned_dir(settings.model)
    folder.mkdir(parents=True, exist_ok=True)
    for model, name in ((reranker, RERANKER_NAME), (units, UNIT_SELECTOR_NAME)):
        if model is None:
            continue
        replace(model, fitted_on=description, cross_validated=report).save(folder / name)
        log.info("fit: %s written to %s", model.name, folder / name)
    confidence_model.save(folder / CALIBRATION_NAME)
    log.info("fit: confidence model written to %s", folder / CALIBRATION_NAME)


def describe(rows: list[Row]) -> str:
    counts = Counter(r.source for r in rows)
    parts = ", ".join(f"{source} {n}" for source, n in sorted(counts.items()))
    weights = sorted({r.weight for r in rows if r.source.startswith("readers")})
    readers = f"; readers' questions weighted x{weights[0]}" if weights else ""
    return f"{len(rows)} questions ({parts}); {FOLDS} folds grouped by document{readers}"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| questions (held-out folds) | n | hit@1 | hit@3 | mrr@10 | extract acc. | OOS abstention "
        "| false abstention |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def fmt(value: Any) -> str:
        return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    for source, m in report.items():
        lines.append(
            f"| {source} | {m['n']} | {fmt(m['hit@1'])} | {fmt(m['hit@3'])} | {fmt(m['mrr@10'])} "
            f"| {fmt(m['extract_accuracy'])} | {fmt(m['oos_abstention'])} | {fmt(m['false_abstention'])} |"
        )
    return "\n".join(lines)


def run_fit(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    work = (args.work_dir or settings.index_dir / "fit").resolve()
    work.mkdir(parents=True, exist_ok=True)
    without = tuple(args.without or ())
    readers = None if args.no_readers else args.readers
    rows = gather_rows(
        settings, args.piaf_questions, args.piaf_corpus, args.tune, work, without, readers, args.reader_weight
    )
    assign_folds(rows)
    report = cross_validate(rows, settings)
    description = describe(rows)
    print(markdown(report))
    if args.json_out:
        args.json_out.write_text(json.dumps({"fitted_on": description, "cross_validated": report}, indent=2) + "\n")
    if args.replies:
        write_replies(rows, settings.abstain_below, args.replies)
    if without:
        log.info("fit: without %s, an ablation: no model written", ", ".join(without))
    elif not args.dry_run:
        fit_final(rows, settings, report, description)
    log.info("fit: done in %.0f s", time.perf_counter() - started)
    return 0
