"""The encoders' folder keeps what this version can load: exports of an earlier format are removed."""

from __future__ import annotations

import json
from pathlib import Path

from qa.encode.embedding import drop_outdated_exports
from qa.encode.onnx_encoder import EXPORT_FORMAT


def _export(folder: Path, config: object) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"\0" * 64)
    (folder / "encoder.json").write_text(json.dumps(config), "utf-8")
    return folder


def test_exports_of_an_earlier_format_are_removed_and_nothing_else(tmp_path: Path) -> None:
    old = _export(tmp_path / "ae451a5643bddfd9-int8", {"format": EXPORT_FORMAT - 1})
    older = _export(tmp_path / "c4528f5cda7b6f44", {"format": EXPORT_FORMAT - 2})
    current = _export(tmp_path / "afbe4847d8425a54-int8", {"format": EXPORT_FORMAT})
    other_model = _export(tmp_path / "5244dff95caf96f0-int8", {"format": EXPORT_FORMAT, "pooling": "mean"})
    unreadable = tmp_path / "0123456789abcdef-int8"
    unreadable.mkdir()
    (unreadable / "encoder.json").write_text("{not json", "utf-8")
    converted = tmp_path / "multilingual-e5-small-22868ad616a96781"
    converted.mkdir()
    (converted / "config.json").write_text("{}", "utf-8")

    assert sorted(drop_outdated_exports(tmp_path)) == sorted([old, older])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (current, other_model, unreadable, converted)
    )
    assert (current / "model.onnx").stat().st_size == 64
    assert drop_outdated_exports(tmp_path) == []
