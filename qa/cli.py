"""The ``briefing-qa`` command: index, ask, bench, perf, serve.

Every command takes --corpus, --index-dir and --model; errors are one line on standard error
and a non-zero exit status, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from qa.settings import BENCHMARKS_DIR, ENCODERS, FINE_TUNED_MODEL_DIR, Settings

log = logging.getLogger("qa")

EXIT_USAGE = 2
EXIT_ERROR = 1


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        corpus_dir=args.corpus, index_dir=args.index_dir, model=args.model, encoder=args.encoder, threads=args.threads
    )


def _engine(args: argparse.Namespace):
    from qa.engine import Engine

    return Engine(_settings(args))


def cmd_index(args: argparse.Namespace) -> int:
    from qa import indexing
    from qa.embedding import encoder_for

    settings = _settings(args)
    if args.force:
        path = indexing.build(settings, encoder_for(settings), force=True)
    else:
        try:
            path = indexing.check(settings)
            log.info("index: up to date in %s", path)
        except indexing.StaleIndex as reason:
            log.info("index: %s, building it", reason)
            path = indexing.build(settings, encoder_for(settings))
    manifest = json.loads((path / indexing.MANIFEST).read_text("utf-8"))
    counts = manifest["counts"]
    print(f"index ready: {counts['chunks']} chunks from {counts['documents']} document(s) in {path}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.engine import QuestionError, reply_to_json

    engine = _engine(args)
    if args.question == "-":
        status = 0
        for line_number, line in enumerate(sys.stdin, start=1):
            question = line.rstrip("\n")
            if not question.strip():
                continue
            try:
                reply = reply_to_json(engine.ask(question, k=args.k))
            except QuestionError as exc:
                reply = {"question": question, "error": str(exc), "line": line_number}
                status = EXIT_ERROR
            if args.json:
                print(json.dumps(reply, ensure_ascii=False), flush=True)
            else:
                print_reply(reply, sys.stdout)
        return status
    reply = reply_to_json(engine.ask(args.question, k=args.k))
    if args.json:
        print(json.dumps(reply, ensure_ascii=False, indent=2))
    else:
        print_reply(reply, sys.stdout)
    return 0


def print_reply(reply: dict[str, Any], out: TextIO) -> None:
    """Human-readable answer with numbered citations (section, line, character span)."""
    if "error" in reply:
        print(f"error: {reply['error']}", file=out)
        return
    if reply.get("interpreted_as"):
        print(f"(understood as: {reply['interpreted_as']})", file=out)
    if reply["answered"]:
        print(f"Answer (confidence {reply['confidence']:.2f}):", file=out)
        for extract in reply["answer"]:
            if "context" in extract:
                print(f"  [{extract['context']['text']}]", file=out)
            print(f"  « {extract['text']} » [{extract['passage']}]", file=out)
        print("\nSources:", file=out)
    else:
        print(f"The briefing does not answer this question (confidence {reply['confidence']:.2f}).", file=out)
        print("\nClosest passages:", file=out)
    for passage in reply["passages"]:
        print(
            f"  [{passage['rank']}] {passage['doc']} — {passage['section']} — line {passage['line']}, "
            f"characters {passage['start']}–{passage['end']}",
            file=out,
        )
    if reply.get("notice"):
        print(f"\nNote: {reply['notice']}", file=out)


def cmd_bench(args: argparse.Namespace) -> int:
    from qa.bench import run_bench

    return run_bench(args, _settings(args))


def cmd_fit(args: argparse.Namespace) -> int:
    from qa.fit import run_fit

    return run_fit(args, _settings(args))


def cmd_fit_encoder(args: argparse.Namespace) -> int:
    from qa.fit_encoder import run_fit_encoder

    return run_fit_encoder(args, _settings(args))


def cmd_perf(args: argparse.Namespace) -> int:
    from qa.perf import run_perf

    return run_perf(args, _settings(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.server import serve

    settings = _settings(args)
    if args.allow_origin:
        from dataclasses import replace

        settings = replace(settings, allowed_origins=tuple(args.allow_origin))
    return serve(settings, host=args.host, port=args.port, root_path=args.root_path)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, help="folder of .txt/.md documents (default: ./corpus)")
    common.add_argument("--index-dir", type=Path, help="where the index lives (default: ./index)")
    common.add_argument("--model", help="sentence-transformers model name or path (default: bundled MiniLM)")
    common.add_argument(
        "--encoder",
        choices=ENCODERS,
        help="how the model runs (default: auto: ONNX int8, else ONNX float, else torch)",
    )
    common.add_argument(
        "--threads",
        type=int,
        help="threads for encoding a question computed alone (default: 0, one per core; side by side: one each)",
    )
    common.add_argument("--debug", action="store_true", help="verbose logs and tracebacks")

    parser = argparse.ArgumentParser(
        prog="briefing-qa", description="Cited, extractive answers to questions about a briefing."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="build the index (if missing or stale)")
    p.add_argument("--force", action="store_true", help="rebuild even if up to date")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", parents=[common], help="answer a question ('-': one question per line on stdin)")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=None, help="number of passages to cite (1..20)")
    p.add_argument("--json", action="store_true", help="print the reply as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("bench", parents=[common], help="measure answer quality on a question file")
    p.add_argument("questions", type=Path, help="JSONL question file")
    p.add_argument("--json", dest="json_out", type=Path, help="write metrics as JSON")
    p.add_argument("--trec-run", type=Path, help="write a TREC run file")
    p.add_argument("--qrels", type=Path, help="write TREC qrels")
    p.add_argument("--plot", type=Path, help="write the comparison as a PNG")
    p.add_argument("--replies", type=Path, help="write each question's reply as JSONL")
    p.add_argument("--no-ablations", action="store_true", help="measure the full system only")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("fit", parents=[common], help="refit the learned re-ranker, unit selector and confidence")
    piaf = BENCHMARKS_DIR / "piaf-dev"
    p.add_argument("--piaf-questions", type=Path, default=piaf / "questions.jsonl", help="span-located questions")
    p.add_argument("--piaf-corpus", type=Path, default=piaf / "corpus", help="the corpus of those questions")
    tune = BENCHMARKS_DIR / "briefing" / "tune.jsonl"
    p.add_argument("--tune", type=Path, default=tune, help="the bundled set's tuning part")
    p.add_argument("--work-dir", type=Path, help="indexes of the training corpora (default: INDEX_DIR/fit)")
    p.add_argument("--json", dest="json_out", type=Path, help="write the cross-validated report as JSON")
    p.add_argument("--dry-run", action="store_true", help="report the cross-validation, write no model")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("fit-encoder", parents=[common], help="fine-tune the bundled MiniLM on French questions")
    p.add_argument("--piaf-questions", type=Path, default=piaf / "questions.jsonl", help="span-located questions")
    p.add_argument("--piaf-corpus", type=Path, default=piaf / "corpus", help="the corpus of those questions")
    p.add_argument("--tune", type=Path, default=tune, help="the bundled set's tuning part")
    p.add_argument("--out", type=Path, default=FINE_TUNED_MODEL_DIR, help="where the model is written")
    p.add_argument("--holdout-fold", type=int, choices=range(5), help="leave out one fold of PIAF articles, report it")
    p.set_defaults(func=cmd_fit_encoder)

    p = sub.add_parser("perf", parents=[common], help="measure speed and memory (build, cold start, warm, HTTP, scale)")
    p.add_argument(
        "--questions", type=Path, default=Path("benchmarks/briefing/tune.jsonl"), help="JSONL questions"
    )
    p.add_argument("--json", dest="json_out", type=Path, help="write the measurements as JSON")
    p.add_argument("--scale", default="", help="synthetic corpus sizes in chunks, e.g. 10000,100000")
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

    p = sub.add_parser("serve", parents=[common], help="run the web UI and the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--root-path", default="", help="path prefix when served behind a reverse proxy")
    p.add_argument("--allow-origin", action="append", help="origin allowed for CORS and framing (repeatable)")
    p.set_defaults(func=cmd_serve)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from qa.logs import configure

    configure(verbose=args.debug)
    try:
        return int(_run(args.func, args))
    except KeyboardInterrupt:
        print("briefing-qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from qa.bench_questions import QuestionFileError
    from qa.embedding import ModelError
    from qa.engine import QuestionError
    from qa.indexing import IndexBuildError
    from qa.reader import CorpusError

    known = (CorpusError, ModelError, IndexBuildError, QuestionError, QuestionFileError, OSError)
    try:
        return func(args)
    except known as exc:
        if args.debug:
            raise
        print(f"briefing-qa: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"briefing-qa: internal error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
