"""The ``briefing-qa`` command: index, ask, serve (and bench, fit, fit-encoder, perf from qa_eval).

Every command takes --corpus, --index-dir and --model; errors are one line on standard error
and a non-zero exit status, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TextIO

from qa.settings import ENCODERS, Settings

log = logging.getLogger("qa")

EXIT_USAGE = 2
COMMANDS_GROUP = "briefing_qa.commands"
EXIT_ERROR = 1


class CommandError(Exception):
    """A command cannot run as asked (a bad question file, a missing corpus...): one line to the user."""


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        corpus_dir=args.corpus, index_dir=args.index_dir, model=args.model, encoder=args.encoder, threads=args.threads
    )


def _engine(args: argparse.Namespace):
    from qa.engine import Engine

    return Engine(settings_of(args))


def cmd_index(args: argparse.Namespace) -> int:
    from qa.encode.embedding import encoder_for
    from qa.index import indexing

    settings = settings_of(args)
    encoder = encoder_for(settings)
    if args.force:
        path = indexing.build(settings, encoder, force=True)
    else:
        try:
            path = indexing.check(settings, encoder)
            log.info("index: up to date in %s", path)
        except indexing.StaleIndex as reason:
            log.info("index: %s, building it", reason)
            path = indexing.build(settings, encoder)
    manifest = json.loads((path / indexing.MANIFEST).read_text("utf-8"))
    counts = manifest["counts"]
    print(f"index ready: {counts['chunks']} chunks from {counts['documents']} document(s) in {path}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.answer.reply import to_json
    from qa.engine import QuestionError

    engine = _engine(args)
    if args.question == "-":
        status, previous = 0, args.previous
        for line_number, line in enumerate(sys.stdin, start=1):
            question = line.rstrip("\n")
            if not question.strip():
                continue
            try:
                reply = to_json(engine.ask(question, k=args.k, previous=previous))
                if args.conversation:
                    previous = reply.get("leans_on", question)
            except QuestionError as exc:
                reply = {"question": question, "error": str(exc), "line": line_number}
                status = EXIT_ERROR
            if args.json:
                print(json.dumps(reply, ensure_ascii=False), flush=True)
            else:
                print_reply(reply, sys.stdout)
        return status
    reply = to_json(engine.ask(args.question, k=args.k, previous=args.previous))
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


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.server import serve

    settings = settings_of(args)
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
    p.add_argument("--previous", help="the question before, for a follow-up (a reply's leans_on)")
    p.add_argument(
        "--conversation", action="store_true", help="with '-': the lines are one conversation, each read after the last"
    )
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", parents=[common], help="run the web UI and the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--root-path", default="", help="path prefix when served behind a reverse proxy")
    p.add_argument("--allow-origin", action="append", help="origin allowed for CORS and framing (repeatable)")
    p.set_defaults(func=cmd_serve)

    # The measuring and fitting commands (bench, fit, fit-encoder, perf) come from the packages that
    # declare them, qa_eval's included: the runtime never imports the evaluation.
    for plugin in entry_points(group=COMMANDS_GROUP):
        plugin.load()(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from qa.core.logs import configure

    configure(verbose=args.debug)
    try:
        return int(_run(args.func, args))
    except KeyboardInterrupt:
        print("briefing-qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from qa.encode.embedding import ModelError
    from qa.engine import QuestionError
    from qa.index.indexing import IndexBuildError
    from qa.ingest.reader import CorpusError

    known = (CorpusError, ModelError, IndexBuildError, QuestionError, CommandError, OSError)
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
    # Through the module qa.cli, not __main__: the commands of other packages import it by name.
    from qa import cli

    sys.exit(cli.main())
