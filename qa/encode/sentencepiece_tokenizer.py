"""A unigram tokenizer served by SentencePiece: the same token ids, a fifth of the memory.

The Hugging Face tokenizer of a 250,000-piece unigram vocabulary (multilingual-e5-small's) holds
its pieces in a trie of hash maps: 280 MB resident in the server, more than the model's weights.
SentencePiece's own unigram model keeps the same pieces and scores in a double-array trie (about
50 MB). An export whose tokenizer is a plain unigram over Metaspace therefore also carries that
tokenizer as a SentencePiece model, plus its normaliser; it is written only when both give the same
ids on a set of sample texts (the parity test compares them on more).

Special tokens written in a question ("<s>", "<mask>") are read as text here, where the Hugging
Face tokenizer would take them as the model's own markers: a reader's text is never a marker.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MODEL_FILE = "sentencepiece.model"
NORMALIZER_FILE = "normalizer.json"

# Texts on which the two tokenizers must agree before the SentencePiece twin is written: French and
# English, accents composed and not, apostrophes, spaces of every width, emoji, unknown characters.
SAMPLES = (
    "Qui mène la réunion des conseillers à la sécurité nationale ?",
    "How do intelligence agencies shape the decisions?",
    "Le cœur de la réunion réside dans l’échange entre les conseillers : l'OTAN, l’Élysée et Kyiv.",
    "Prix\u00a0: 12\u202f000\u00a0€ ; œuvre, Œdipe, naïve, façade, Noël, août, ÉTÉ, Cafe\u0301",
    "Merci 🙂🇫🇷 ! C'est « l'été » — vraiment… ☃☃ 習近平 Зеленський αβγ",
    "tab\there  and   several    spaces\nand a line break ﬁnance ① ＡＢＣ ½",
    "  sans accents: ou se tient la reunion, qui mene les negociations",
)


def write_twin(tokenizer_json: str, folder: Path, max_length: int) -> dict[str, Any] | None:
    """Write the SentencePiece twin of a Hugging Face tokenizer into folder; its settings for
    encoder.json, or None (nothing written) when the tokenizer is not a plain unigram or the two
    disagree on a sample."""
    from sentencepiece import sentencepiece_model_pb2 as pb
    from tokenizers import Tokenizer

    spec = json.loads(tokenizer_json)
    model, pre_tokenizer = spec.get("model") or {}, spec.get("pre_tokenizer") or {}
    plain_metaspace = pre_tokenizer.get("type") == "Metaspace" and pre_tokenizer.get("prepend_scheme") == "always"
    if model.get("type") != "Unigram" or model.get("byte_fallback") or not plain_metaspace:
        return None
    if pre_tokenizer.get("replacement") != "▁" or not pre_tokenizer.get("split", True):
        return None
    proto = pb.ModelProto()
    specials = {token["id"] for token in spec.get("added_tokens", []) if token.get("special")}
    for number, (piece, score) in enumerate(model["vocab"]):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, score
        if number == model["unk_id"]:
            entry.type = pb.ModelProto.SentencePiece.UNKNOWN
        elif number in specials:
            entry.type = pb.ModelProto.SentencePiece.CONTROL
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.unk_id = model["unk_id"]
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    # The Hugging Face normaliser runs first (normalizer.json), then the leading space Metaspace adds
    # unless the text has one (SentencePiece's own prefix would double it); SentencePiece marks spaces.
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = False
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True

    reference = Tokenizer.from_str(tokenizer_json)
    reference.no_padding()
    reference.enable_truncation(max_length)
    marked = reference.encode("x")
    first = marked.special_tokens_mask.index(0)
    settings = {
        "prefix_ids": marked.ids[:first],
        "suffix_ids": marked.ids[first + 1 :],
        "max_length": max_length,
    }
    (folder / MODEL_FILE).write_bytes(proto.SerializeToString())
    (folder / NORMALIZER_FILE).write_text(json.dumps(spec.get("normalizer")), "utf-8")
    twin = SentencePieceTokenizer(folder, settings)
    long_text = " ".join(SAMPLES) * 20
    for text in (*SAMPLES, long_text):
        for prompt in ("", "query: ", "passage: "):
            if twin.encode(prompt + text) != reference.encode(prompt + text).ids:
                log.warning("encoder: SentencePiece disagrees with the tokenizer on %r: not used", (prompt + text)[:60])
                (folder / MODEL_FILE).unlink()
                (folder / NORMALIZER_FILE).unlink()
                return None
    return settings


class SentencePieceTokenizer:
    """Token ids of a text, as the Hugging Face tokenizer it was made from gives them."""

    def __init__(self, folder: Path, settings: dict[str, Any]) -> None:
        import sentencepiece
        from tokenizers import Tokenizer

        self._pieces = sentencepiece.SentencePieceProcessor(model_file=str(folder / MODEL_FILE))
        normalizer = json.loads((folder / NORMALIZER_FILE).read_text("utf-8"))
        # A tokenizer with one piece carries the normaliser: it is how the library reads one from JSON.
        carrier = {
            "version": "1.0",
            "normalizer": normalizer,
            "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]], "byte_fallback": False},
        }
        self._normalizer = Tokenizer.from_str(json.dumps(carrier)).normalizer
        self._prefix = list(settings["prefix_ids"])
        self._suffix = list(settings["suffix_ids"])
        self._room = int(settings["max_length"]) - len(self._prefix) - len(self._suffix)

    def encode(self, text: str) -> list[int]:
        normalised = self._normalizer.normalize_str(text) if self._normalizer is not None else text
        if not normalised.startswith(" "):
            normalised = " " + normalised
        return [*self._prefix, *self._pieces.encode(normalised)[: self._room], *self._suffix]
