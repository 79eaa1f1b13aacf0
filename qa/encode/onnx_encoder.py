"""The fast encoder: the sentence-transformers model exported once to ONNX, run with ONNX Runtime.

A short question encodes in about a third of the time of sentence-transformers' ``encode()``
on these 2-core machines, and serving needs neither torch nor transformers (cold start drops
by seconds). The export is made from the loaded torch model by ``export`` and kept in a
folder with the tokenizer and the pooling settings, so it is self-contained::

    encoders/<key>/model.onnx       the transformer, input ids -> token embeddings
    encoders/<key>/tokenizer.json   the model's fast tokenizer (padding turned off)
    encoders/<key>/sentencepiece.model, normalizer.json
                                    for a unigram tokenizer, the same ids in a fifth of the memory
    encoders/<key>/encoder.json     pooling, max length, dimension, input names, attention shape,
                                    the prompts of a query and of a passage, versions

The int8 copy (``quantize``) first fuses the transformer's operators with ONNX Runtime's
transformer optimiser (attention, layer norms, GELU: one kernel each instead of dozens of small
ones), then quantises the fused graph's weights to int8.

A lone question encodes on every core; questions computed side by side each encode on one
thread (``all_threads``), so two questions never fight over the same cores.

Only Transformer -> Pooling (mean or CLS) -> optional Normalize models are exported; others
keep the torch path (qa.encode.embedding chooses).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from qa.encode import sentencepiece_tokenizer

log = logging.getLogger(__name__)

# 2: encoder.json records the attention shape, for fusion; 3: and the prompts; 4: a unigram
# tokenizer also comes as its SentencePiece twin (qa.encode.sentencepiece_tokenizer)
EXPORT_FORMAT = 4
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
SUPPORTED_POOLING = ("mean", "cls")


class ExportError(Exception):
    """The model cannot be exported to ONNX; the message says why."""


def export(st_model: Any, target: Path) -> None:
    """Write the ONNX export of a loaded SentenceTransformer to target, atomically.

    The folder appears complete or not at all: it is written beside target and renamed.
    """
    import torch

    pooling, transformer, tokenizer, backend_tokenizer = _exportable_parts(st_model)
    sample = tokenizer(["a short question", "another"], padding=True, return_tensors="pt")
    input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class TokenEmbeddings(torch.nn.Module):
        """Named inputs in a fixed order: the exporter passes positionally."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.transformer(**dict(zip(input_names, inputs, strict=True))).last_hidden_state

    if hasattr(transformer, "set_attn_implementation"):
        # Plain attention traces into a graph without data-dependent branches (SDPA's mask logic has some).
        transformer.set_attn_implementation("eager")
    with folder_written_atomically(target) as staging:
        dynamic = {name: {0: "batch", 1: "tokens"} for name in [*input_names, "token_embeddings"]}
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about constant shapes: checked by the parity test
            torch.onnx.export(
                TokenEmbeddings().eval(),
                tuple(sample[n] for n in input_names),
                str(staging / MODEL_FILE),
                input_names=input_names,
                output_names=["token_embeddings"],
                dynamic_axes=dynamic,
                opset_version=17,
                dynamo=False,  # the TorchScript exporter needs no onnxscript and handles BERT-likes well
            )
        tokenizer_json = backend_tokenizer.to_str()
        (staging / TOKENIZER_FILE).write_text(tokenizer_json, "utf-8")
        config = _export_config(st_model, transformer, pooling, input_names)
        twin = sentencepiece_tokenizer.write_twin(tokenizer_json, staging, config["max_length"])
        if twin:
            config["sentencepiece"] = twin
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2), "utf-8")


def _exportable_parts(st_model: Any) -> tuple[str, Any, Any, Any]:
    """The pooling mode, transformer and tokenizers of a model the ONNX path can run, or ExportError."""
    modules = [type(m).__name__ for m in st_model]
    if modules[:2] != ["Transformer", "Pooling"] or any(m != "Normalize" for m in modules[2:]):
        raise ExportError(f"only Transformer + Pooling models are exported, not {' + '.join(modules)}")
    pooling = st_model[1].get_config_dict().get("pooling_mode")
    if pooling not in SUPPORTED_POOLING:
        raise ExportError(f"pooling {pooling!r} is not supported by the ONNX path")
    tokenizer = st_model.tokenizer
    backend_tokenizer = getattr(tokenizer, "backend_tokenizer", None)
    if backend_tokenizer is None:
        raise ExportError("the model has no fast (Rust) tokenizer")
    return pooling, st_model[0].auto_model, tokenizer, backend_tokenizer


def _export_config(st_model: Any, transformer: Any, pooling: str, input_names: list[str]) -> dict[str, Any]:
    from qa.encode.embedding import prompts_of

    return {
        "format": EXPORT_FORMAT,
        "pooling": pooling,
        "max_length": int(st_model.max_seq_length or 512),
        "dimension": int(st_model.get_embedding_dimension()),
        "inputs": input_names,
        "prompts": prompts_of(st_model),
        "attention": {
            "heads": int(getattr(transformer.config, "num_attention_heads", 0) or 0),
            "hidden_size": int(getattr(transformer.config, "hidden_size", 0) or 0),
        },
        "versions": {name: _version(name) for name in ("torch", "transformers", "sentence-transformers")},
    }


def quantize(source: Path, target: Path) -> None:
    """Write an int8 copy of the export in source to target, atomically: the graph fused for
    ONNX Runtime, then dynamically quantised (int8 weights per output channel, activations
    quantised on the fly; no calibration data)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # ORT suggests shape pre-processing on the root logger; it changes nothing for this model.
    advice = logging.Filter()
    advice.filter = lambda record: "pre-processing before quantization" not in str(record.msg)  # type: ignore[method-assign]
    logging.getLogger().addFilter(advice)
    try:
        with folder_written_atomically(target) as staging:
            config = json.loads((source / CONFIG_FILE).read_text("utf-8"))
            fused = _fuse(source / MODEL_FILE, staging / "fused.onnx", config.get("attention", {}))
            quantize_dynamic(
                fused or source / MODEL_FILE,
                staging / MODEL_FILE,
                per_channel=True,
                weight_type=QuantType.QInt8,
                # Fused operators live in ORT's own domain, where ONNX shape inference gives no type.
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
            if fused:
                fused.unlink()
            config["quantization"] = {"weights": "int8 per channel", "fused": fused is not None}
            # The same model makes the same bytes every build: the digest says which model an index used.
            config["model_sha256"] = file_digest(staging / MODEL_FILE)
            (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2), "utf-8")
            for name in (TOKENIZER_FILE, sentencepiece_tokenizer.MODEL_FILE, sentencepiece_tokenizer.NORMALIZER_FILE):
                if (source / name).is_file():
                    shutil.copy(source / name, staging / name)
    finally:
        logging.getLogger().removeFilter(advice)


def _fuse(model: Path, target: Path, attention: dict[str, int]) -> Path | None:
    """The graph with ORT's fused transformer operators, written to target; None if it cannot be fused.

    Fusion needs the attention shape (heads, hidden size), recorded at export. A model the
    optimiser does not know is quantised unfused: slower, same results.
    """
    heads, hidden = attention.get("heads", 0), attention.get("hidden_size", 0)
    if not heads or not hidden:
        log.info("encoder: no attention shape recorded, quantising without fusion")
        return None
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(str(model), model_type="bert", num_heads=heads, hidden_size=hidden)
        fused = {op: n for op, n in optimized.get_fused_operator_statistics().items() if n}
        optimized.save_model_to_file(str(target))
    except Exception as exc:  # an architecture the optimiser does not handle: unfused still works
        log.warning("encoder: operator fusion failed (%s: %s), quantising without it", type(exc).__name__, exc)
        return None
    log.info("encoder: fused %s", ", ".join(f"{n} {op}" for op, n in sorted(fused.items())) or "nothing")
    return target


@contextmanager
def folder_written_atomically(target: Path) -> Iterator[Path]:
    """A staging folder beside target, renamed to target once written: the folder appears complete
    or not at all, and a stale or broken one is replaced."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".tmp-{target.name}-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def file_digest(path: Path) -> str:
    """The file's SHA-256, hex."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


class OnnxEncoder:
    """Encodes texts into L2-normalised float32 vectors with ONNX Runtime; safe to call from many threads."""

    def __init__(self, folder: Path, model_name: str, threads: int = 0, backend: str = "onnx") -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((folder / CONFIG_FILE).read_text("utf-8"))
        if config.get("format") != EXPORT_FORMAT or config.get("pooling") not in SUPPORTED_POOLING:
            raise ExportError(f"export in {folder} has an unknown format")
        self.model_name = model_name
        self.backend = backend
        self.folder = folder
        self.dimension = int(config["dimension"])
        self._pooling = config["pooling"]
        self._inputs = list(config["inputs"])
        self.prompts = dict(config["prompts"])
        self.model_sha256 = config.get("model_sha256", "")
        # Dynamic quantisation scales activations per tensor, so in a batch a text's vector would
        # depend on its batch-mates (cosine down to 0.98 against the text alone, padding included).
        # Quantised models encode one text per run: the index's vectors are computed exactly as a
        # question's, and a chunk's vector does not change when other documents are added.
        # Unpadded, this is also faster than batching for the briefing (1.1 s against 1.9-3.2 s).
        self._one_text_per_run = "quantization" in config
        self.tokenizer_sha256 = file_digest(folder / TOKENIZER_FILE)
        if "sentencepiece" in config:
            self._twin = sentencepiece_tokenizer.SentencePieceTokenizer(folder, config["sentencepiece"])
        else:
            self._twin = None
            self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
            # Pad per batch to its longest text, not to the fixed length some tokenizer files carry.
            self._tokenizer.no_padding()
            self._tokenizer.enable_truncation(int(config["max_length"]))
        model_file = str(folder / MODEL_FILE)

        def session(intra_threads: int) -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = intra_threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            return ort.InferenceSession(model_file, options, providers=["CPUExecutionProvider"])

        # Two sessions: every core for a question computed alone (lowest latency), one thread each
        # for questions computed side by side: there, more threads per question only spin against
        # each other (measured on 2 cores: 16 -> 10 ms of CPU a question, 105 -> 148 answers/s).
        self._session = session(threads)
        self._one_thread = self._session if threads == 1 else session(1)

    def encode(
        self,
        texts: list[str],
        *,
        role: str,
        batch_size: int = 64,
        show_progress: bool = False,
        all_threads: bool = True,
    ) -> np.ndarray:
        from qa.encode.embedding import with_prompt

        texts = with_prompt(texts, role, self.prompts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        session = self._session if all_threads else self._one_thread
        batch_size = 1 if self._one_text_per_run else batch_size
        # Longest first, so each batch pads little (as sentence-transformers does).
        order = np.argsort([-len(t) for t in texts], kind="stable")
        starts = range(0, len(texts), batch_size)
        for start in tqdm(starts, desc="embedding", unit="batch") if show_progress else starts:
            rows = order[start : start + batch_size]
            vectors[rows] = self._encode_batch([texts[i] for i in rows], session)
        return vectors

    def token_ids(self, text: str) -> list[int]:
        """The ids the model reads for text (special tokens included, truncated to its length)."""
        return self._twin.encode(text) if self._twin is not None else self._tokenizer.encode(text).ids

    def _encode_batch(self, texts: list[str], session: Any) -> np.ndarray:
        if self._twin is not None or len(texts) == 1:
            rows = [self.token_ids(text) for text in texts]
        else:
            rows = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        length = max(len(ids) for ids in rows)
        # Single-segment inputs: attention on every real token, token type 0 throughout.
        arrays = {name: np.zeros((len(texts), length), dtype=np.int64) for name in self._inputs}
        for row, ids in enumerate(rows):
            arrays["input_ids"][row, : len(ids)] = ids
            arrays["attention_mask"][row, : len(ids)] = 1
        (tokens,) = session.run(None, arrays)
        if self._pooling == "cls":
            pooled = tokens[:, 0]
        else:
            mask = arrays["attention_mask"][..., None].astype(np.float32)
            pooled = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)
