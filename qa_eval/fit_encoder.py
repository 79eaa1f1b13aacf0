"""``briefing-qa fit-encoder``: fine-tune the bundled MiniLM on French question-passage pairs.

The English all-MiniLM-L6-v2 gives French questions and passages noisy cosines. Fine-tuned with
in-batch negatives (sentence-transformers' MultipleNegativesRankingLoss) on the questions of PIAF
dev and of the bundled tuning part, each paired with the chunk and the sentence holding its
answer, it finds them much better. The result ships as ``qa/models/minilm-piaf/`` (weights
stored as float16, loaded as float32) and is the default model; this command remakes it.

``--holdout-fold N`` leaves out the PIAF articles of fold N (GroupKFold by article) and reports
dense-only retrieval on them, before and after: the honest measure of what the fine-tuning does
on articles it never saw.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.core import offline
from qa.core.model import Chunk
from qa.core.text import fold
from qa.encode.embedding import PASSAGE, QUERY, ModelError, prompts_of, resolve_model, with_prompt
from qa.ingest.chunking import chunk_documents
from qa.ingest.reader import read_corpus
from qa.settings import PROJECT_ROOT, Settings
from qa_eval import metrics
from qa_eval.questions import BenchQuestion, load_questions

log = logging.getLogger(__name__)

SEED = 0
FOLDS = 5
TRAINING: dict[str, Any] = {
    "epochs": 1,
    "batch_size": 32,
    "learning_rate": 5e-5,
    "warmup_ratio": 0.1,
    "max_seq_length": 128,
    "loss": "MultipleNegativesRankingLoss (in-batch negatives)",
}
CARD_FILE = "training.json"


def _corpus(folder: Path, settings: Settings) -> tuple[dict[str, str], list[Chunk]]:
    documents, _problems = read_corpus(folder, settings.max_document_bytes)
    return {d.path: d.text for d in documents}, chunk_documents(documents, settings.chunk_size, settings.chunk_overlap)


def positives(question: BenchQuestion, chunks: list[Chunk], texts: dict[str, str]) -> list[str]:
    """The indexed text of the first chunk holding the answer, and the sentence (unit) holding it."""
    for chunk in chunks:
        span = {"doc": chunk.doc, "start": chunk.start, "end": chunk.end}
        if not metrics.is_relevant(span, question.spans):
            continue
        found = [chunk.index_text]
        for unit in chunk.units:
            if metrics.extract_is_correct({"doc": chunk.doc, "start": unit.start, "end": unit.end}, question.spans):
                found.append(texts[chunk.doc][unit.start : unit.end])
                break
        return found
    return []


def _held_out_docs(questions: list[BenchQuestion], fold: int | None) -> set[str]:
    if fold is None:
        return set()
    from sklearn.model_selection import GroupKFold

    docs = np.array([q.spans[0].doc for q in questions])
    splits = list(GroupKFold(n_splits=FOLDS).split(np.zeros(len(docs)), groups=docs))
    return set(docs[splits[fold][1]])


def dense_hits(model: Any, questions: list[BenchQuestion], chunks: list[Chunk]) -> dict[str, float]:
    """Dense-only retrieval over the chunks: hit@1 and hit@10 of the questions."""
    prompts = prompts_of(model)
    passages = with_prompt([c.index_text for c in chunks], PASSAGE, prompts)
    chunk_vectors = model.encode(passages, batch_size=64, normalize_embeddings=True)
    queries = with_prompt([q.question for q in questions], QUERY, prompts)
    question_vectors = model.encode(queries, batch_size=64, normalize_embeddings=True)
    hit1 = hit10 = 0
    for question, similarities in zip(questions, question_vectors @ chunk_vectors.T, strict=True):
        order = np.argsort(-similarities)[:10]
        relevant = [
            metrics.is_relevant({"doc": chunks[i].doc, "start": chunks[i].start, "end": chunks[i].end}, question.spans)
            for i in order
        ]
        hit1 += relevant[0]
        hit10 += any(relevant)
    n = max(1, len(questions))
    return {"questions": len(questions), "hit@1": round(hit1 / n, 4), "hit@10": round(hit10 / n, 4)}


def hard_negative(question: BenchQuestion, chunks: list[Chunk]) -> str | None:
    """The chunk of the question's own article that shares most of its words without holding the
    answer: "right document, wrong passage", the retrieval's most frequent miss."""
    words = set(fold(question.question).split())
    best, best_shared = None, 0
    for chunk in chunks:
        if chunk.doc != question.spans[0].doc:
            continue
        if metrics.is_relevant({"doc": chunk.doc, "start": chunk.start, "end": chunk.end}, question.spans):
            continue
        shared = len(words & _folded_words(chunk.index_text))
        if shared > best_shared:
            best, best_shared = chunk.index_text, shared
    return best


@functools.cache
def _folded_words(text: str) -> frozenset[str]:
    """A passage's words, folded once: every question of its article compares against them."""
    return frozenset(fold(text).split())


def run_fit_encoder(args: argparse.Namespace, settings: Settings) -> int:
    offline.apply()
    try:
        from datasets import Dataset
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, losses
        from sentence_transformers import SentenceTransformerTrainingArguments as TrainingArguments
    except ImportError as exc:
        raise ModelError(f"fine-tuning needs the training extras: pip install -e '.[train]' ({exc})") from exc
    started = time.perf_counter()
    piaf_texts, piaf_chunks = _corpus(args.piaf_corpus, settings)
    briefing_texts, briefing_chunks = _corpus(settings.corpus_dir, settings)
    piaf = load_questions(args.piaf_questions, piaf_texts)
    tune = [q for q in load_questions(args.tune, briefing_texts) if q.answerable]
    readers = _readers(args, piaf_texts)
    held_out = _held_out_docs(piaf, args.holdout_fold)
    kept = [q for q in [*piaf, *readers] if q.spans[0].doc not in held_out]
    training = dict(TRAINING, **{k: v for k, v in vars(args).items() if k in TRAINING and v is not None})
    training["hard_negatives"] = bool(args.hard_negatives)
    training["embeddings_frozen"] = bool(args.freeze_embeddings)
    rows = [(q, p, piaf_chunks) for q in kept for p in positives(q, piaf_chunks, piaf_texts)]
    rows += [(q, p, briefing_chunks) for q in tune for p in positives(q, briefing_chunks, briefing_texts)]
    model = SentenceTransformer(resolve_model(args.base), device="cpu")
    prompts = prompts_of(model)
    columns: dict[str, list[str]] = {"anchor": [], "positive": [], "negative": []}
    for question, passage, chunks in rows:
        negative = hard_negative(question, chunks) if args.hard_negatives else None
        if args.hard_negatives and negative is None:
            continue  # MultipleNegativesRankingLoss takes a table: every row a triplet, or none
        columns["anchor"].append(with_prompt([question.question], QUERY, prompts)[0])
        columns["positive"].append(with_prompt([passage], PASSAGE, prompts)[0])
        if negative is not None:
            columns["negative"].append(with_prompt([negative], PASSAGE, prompts)[0])
    if not columns["negative"]:
        del columns["negative"]
    order = list(range(len(columns["anchor"])))
    random.Random(SEED).shuffle(order)
    columns = {name: [values[i] for i in order] for name, values in columns.items()}
    log.info("fit-encoder: %d training rows (%d articles held out)", len(order), len(held_out))

    model.max_seq_length = training["max_seq_length"]
    if args.freeze_embeddings:
        # Only the transformer layers learn: what ships is then a delta over the package's weights.
        model[0].auto_model.get_input_embeddings().weight.requires_grad_(False)
    held_out_questions = [q for q in piaf if q.spans[0].doc in held_out]
    held_out_readers = [q for q in readers if q.spans[0].doc in held_out]
    report: dict[str, Any] = {}
    if held_out_questions:
        report["held_out_dense_before"] = dense_hits(model, held_out_questions, piaf_chunks)
        report["held_out_readers_dense_before"] = dense_hits(model, held_out_readers, piaf_chunks)
    work = tempfile.TemporaryDirectory(prefix="briefing-qa-fit-encoder-")  # the trainer's own files; nothing kept
    arguments = TrainingArguments(
        output_dir=work.name,
        num_train_epochs=training["epochs"],
        per_device_train_batch_size=training["batch_size"],
        learning_rate=training["learning_rate"],
        warmup_ratio=training["warmup_ratio"],
        logging_steps=20,
        disable_tqdm=False,  # minutes of training: a progress bar, even when stderr is not a terminal
        save_strategy="no",
        report_to="none",
        seed=SEED,
        dataloader_num_workers=0,
    )
    dataset = Dataset.from_dict(columns)
    trainer = SentenceTransformerTrainer(
        model=model, args=arguments, train_dataset=dataset, loss=losses.MultipleNegativesRankingLoss(model)
    )
    trainer.train()
    work.cleanup()
    if held_out_questions:
        report["held_out_dense_after"] = dense_hits(model, held_out_questions, piaf_chunks)
        report["held_out_readers_dense_after"] = dense_hits(model, held_out_readers, piaf_chunks)
    save_half_precision(model, args.out)
    card = {
        "base_model": args.base,
        "training": training,
        "seed": SEED,
        "rows": len(order),
        "fitted_on": f"{_shown(args.piaf_questions)} ({len(piaf)} questions, {len(held_out)} articles held out), "
        f"{_shown(args.tune)} ({len(tune)} answerable questions)"
        + (f", {_shown(args.readers / 'piaf-dev.jsonl')} ({len(readers)} answerable questions)" if readers else ""),
        "held_out_fold": args.holdout_fold,
        "evaluation": report,
        "seconds": round(time.perf_counter() - started),
    }
    (args.out / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", "utf-8")
    log.info("fit-encoder: written to %s in %.0f s: %s", args.out, time.perf_counter() - started, report)
    return 0


def _readers(args: argparse.Namespace, piaf_texts: dict[str, str]) -> list[BenchQuestion]:
    """The readers' questions on PIAF dev articles (answerable ones), when asked for."""
    if not args.readers:
        return []
    return [q for q in load_questions(args.readers / "piaf-dev.jsonl", piaf_texts) if q.answerable]


def _shown(path: Path) -> str:
    """The path relative to the project when inside it (a model card names no machine's folders)."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def save_half_precision(model: Any, folder: Path) -> None:
    """Save the model with float16 weights (half the size; loaded back as float32, cosines > 0.9999)."""
    from safetensors.torch import load_file, save_file

    model.save(str(folder))
    weights = folder / "model.safetensors"
    state = load_file(str(weights))
    save_file({name: tensor.half() for name, tensor in state.items()}, str(weights), metadata={"format": "pt"})
    for junk in ("README.md",):  # the trainer's auto-generated card lists machine paths
        (folder / junk).unlink(missing_ok=True)
