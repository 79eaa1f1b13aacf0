"""The measuring and fitting commands of ``briefing-qa``: bench, fit, fit-encoder, perf, build-lexicons.

Declared to ``qa.cli`` through the ``briefing_qa.commands`` entry point, so that the runtime
never imports this package.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa.cli import settings_of
from qa.settings import BASE_MODEL, BENCHMARKS_DIR, FINE_TUNED_MODEL_DIR

# Copies of each reader's question in fit's training sets, beside PIAF's 1,784 (docs/quality.md).
READER_WEIGHT = 2


def cmd_bench(args: argparse.Namespace) -> int:
    from qa_eval.bench import run_bench

    return run_bench(args, settings_of(args))


def cmd_fit(args: argparse.Namespace) -> int:
    from qa_eval.fit import run_fit

    return run_fit(args, settings_of(args))


def cmd_fit_encoder(args: argparse.Namespace) -> int:
    from qa_eval.fit_encoder import run_fit_encoder

    return run_fit_encoder(args, settings_of(args))


def cmd_perf(args: argparse.Namespace) -> int:
    from qa_eval.perf import run_perf

    return run_perf(args, settings_of(args))


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from qa_eval.feedback import export

    count = export(settings_of(args), args.out)
    print(f"{count} disliked question(s) written to {args.out} (evidence empty: to fill in)")
    return 0


def cmd_build_lexicons(args: argparse.Namespace) -> int:
    from qa_eval.lexicons import build_lexicons

    build_lexicons(args.debian_packages)
    return 0


def add_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("bench", parents=[common], help="measure answer quality on a question file")
    p.add_argument("questions", type=Path, help="JSONL question file")
    p.add_argument("--json", dest="json_out", type=Path, help="write metrics as JSON")
    p.add_argument("--trec-run", type=Path, help="write a TREC run file")
    p.add_argument("--qrels", type=Path, help="write TREC qrels")
    p.add_argument("--plot", type=Path, help="write the comparison as a PNG")
    p.add_argument("--replies", type=Path, help="write each question's reply as JSONL")
    p.add_argument("--no-ablations", action="store_true", help="measure the full system only")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("feedback", help="readers' votes on answers (the page's thumbs up / down)")
    actions = p.add_subparsers(dest="action", required=True)
    p = actions.add_parser(
        "export", parents=[common], help="the disliked questions as a question file, evidence empty to fill in"
    )
    p.add_argument("out", type=Path, help="JSONL file to write")
    p.set_defaults(func=cmd_feedback_export)

    p = sub.add_parser("fit", parents=[common], help="refit the learned re-ranker, unit selector and confidence")
    piaf = BENCHMARKS_DIR / "piaf-dev"
    p.add_argument("--piaf-questions", type=Path, default=piaf / "questions.jsonl", help="span-located questions")
    p.add_argument("--piaf-corpus", type=Path, default=piaf / "corpus", help="the corpus of those questions")
    tune = BENCHMARKS_DIR / "briefing" / "tune.jsonl"
    p.add_argument("--tune", type=Path, default=tune, help="the bundled set's tuning part")
    p.add_argument("--work-dir", type=Path, help="indexes of the training corpora (default: INDEX_DIR/fit)")
    p.add_argument("--json", dest="json_out", type=Path, help="write the cross-validated report as JSON")
    p.add_argument("--replies", type=Path, help="write every question's held-out reply as JSONL")
    p.add_argument("--dry-run", action="store_true", help="report the cross-validation, write no model")
    p.add_argument(
        "--readers",
        type=Path,
        default=BENCHMARKS_DIR / "readers",
        help="questions as readers ask them (briefing.jsonl, piaf-dev.jsonl), fitted on with --reader-weight",
    )
    p.add_argument("--no-readers", action="store_true", help="fit without the readers' questions")
    p.add_argument(
        "--reader-weight", type=int, default=READER_WEIGHT, help="copies of each reader question in training"
    )
    p.add_argument(
        "--without",
        action="append",
        metavar="STAGE",
        help="cross-validate the engine without this stage or part (e.g. synonyms), refitted so; writes no model",
    )
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("fit-encoder", parents=[common], help="fine-tune the bundled MiniLM on French questions")
    p.add_argument("--piaf-questions", type=Path, default=piaf / "questions.jsonl", help="span-located questions")
    p.add_argument("--piaf-corpus", type=Path, default=piaf / "corpus", help="the corpus of those questions")
    p.add_argument("--tune", type=Path, default=tune, help="the bundled set's tuning part")
    p.add_argument("--out", type=Path, default=FINE_TUNED_MODEL_DIR, help="where the model is written")
    p.add_argument("--holdout-fold", type=int, choices=range(5), help="leave out one fold of PIAF articles, report it")
    p.add_argument("--base", default=BASE_MODEL, help="the model fine-tuned (default: %(default)s)")
    p.add_argument("--hard-negatives", action="store_true", help="add each question's same-article hard negative")
    p.add_argument("--freeze-embeddings", action="store_true", help="train the transformer layers only")
    p.add_argument("--readers", type=Path, help="a readers' questions folder: its piaf-dev.jsonl joins training")
    p.add_argument("--max-seq-length", type=int, help="tokens read of each text (default 128)")
    p.add_argument("--learning-rate", type=float, help="(default 5e-5)")
    p.add_argument("--epochs", type=int, help="(default 1)")
    p.set_defaults(func=cmd_fit_encoder)

    p = sub.add_parser("perf", parents=[common], help="measure speed and memory (build, cold start, warm, HTTP, scale)")
    p.add_argument("--questions", type=Path, default=Path("benchmarks/briefing/tune.jsonl"), help="JSONL questions")
    p.add_argument("--json", dest="json_out", type=Path, help="write the measurements as JSON")
    p.add_argument("--scale", default="", help="synthetic corpus sizes in chunks, e.g. 10000,100000")
    p.add_argument(
        "--multi-document",
        default=str(BENCHMARKS_DIR / "piaf-dev"),
        help="a benchmark folder (corpus/ and questions.jsonl) whose corpus is measured too ('' to skip)",
    )
    p.add_argument("--clients", default="1,8,32", help="concurrent HTTP clients per run ('' to skip HTTP)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per HTTP run")
    p.add_argument("--work-dir", type=Path, help="keep synthetic corpora and their indexes here, for reuse")
    p.add_argument(
        "--embed-up-to",
        type=int,
        default=20_000,
        help="scale sizes above this get chunk vectors from sentence means (embedding all would take hours)",
    )
    p.set_defaults(func=cmd_perf)

    p = sub.add_parser("build-lexicons", parents=[common], help="convert qa/lexicons/ from published dictionaries")
    p.add_argument(
        "--debian-packages",
        type=Path,
        required=True,
        help="a folder with mythes-fr, dict-freedict-eng-fra and dict-freedict-fra-eng (.deb files, or unpacked)",
    )
    p.set_defaults(func=cmd_build_lexicons)
