"""Logging set-up for the command line and the server: our log lines, the libraries' noise off."""

from __future__ import annotations

import logging
import os
import warnings


def configure(verbose: bool = False) -> None:
    # Model loading must stay offline and quiet: no hub calls, no weight-loading progress bars.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="briefing-qa: %(message)s" if not verbose else "%(asctime)s %(name)s %(levelname)s %(message)s",
        force=True,
    )
    for noisy in ("sentence_transformers", "transformers", "httpx", "urllib3", "faiss", "bm25s", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="transformers")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # transformers is optional for custom encoders
        pass
