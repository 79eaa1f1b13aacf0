"""Logging set-up for the command line and the server: our log lines, the libraries' noise off."""

from __future__ import annotations

import logging
import warnings

from qa.core import offline


def configure(verbose: bool = False) -> None:
    # Model loading must stay offline and quiet: no hub calls, no weight-loading progress bars.
    offline.apply()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="briefing-qa: %(message)s" if not verbose else "%(asctime)s %(name)s %(levelname)s %(message)s",
        force=True,
    )
    # Libraries set their own logger levels on import; filter at the handler instead.
    for handler in logging.getLogger().handlers:
        handler.addFilter(_OwnRecordsOrWarnings(verbose))
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="transformers")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # transformers is optional for custom encoders
        pass


class _OwnRecordsOrWarnings(logging.Filter):
    """Our INFO lines; only warnings and errors from libraries (all of them with --debug)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name.split(".")[0] in ("qa", "qa_eval", "ui", "__main__")
        return self.verbose or own or record.levelno >= logging.ERROR
