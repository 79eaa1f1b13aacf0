"""``briefing-qa build-lexicons``: the word lists of ``qa/lexicons/``, converted from published dictionaries.

Nothing in these files is written by hand for a document or a question: each is converted, whole,
from a general dictionary that Debian packages (the sources are the packages' own files, read as
they are shipped) or from CLDR and ISO 3166 as Babel and pycountry ship them:

- ``en-fr/freedict.tsv``: English word -> French words, from FreeDict's English-French and
  French-English dictionaries (``dict-freedict-eng-fra``, ``dict-freedict-fra-eng``; GPL-2+);
- ``fr/thesaurus.tsv.gz``: French word -> its closest synonyms, from the French thesaurus of
  LibreOffice / Grammalecte (``mythes-fr``, ``thes_fr.dat``; LGPL-2.1+), each word's synonyms
  ranked by how much their own synonyms overlap its (second-order similarity), the best kept;
- ``en-fr/places.tsv``: each country's, region's and union's English and French names, from
  CLDR (as Babel ships it; Unicode-3.0) and ISO 3166-1 with its iso-codes French (as pycountry
  ships them; LGPL-2.1).

Run: ``apt-get download mythes-fr dict-freedict-eng-fra dict-freedict-fra-eng`` in a folder, then
``briefing-qa build-lexicons --debian-packages FOLDER`` (pycountry and Babel: ``pip install -e '.[lexicons]'``).
"""

from __future__ import annotations

import gettext
import gzip
import logging
import math
import re
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from qa.settings import LEXICONS_DIR

log = logging.getLogger("briefing-qa.lexicons")

FREEDICT_PACKAGES = ("dict-freedict-eng-fra", "dict-freedict-fra-eng")
THESAURUS_PACKAGE = "mythes-fr"
# Synonyms kept per French word, and the least second-order similarity a kept one has.
SYNONYMS_PER_WORD = 12
MIN_SIMILARITY = 0.25
# Translations longer than this many words are glosses, not equivalents one could find in a text.
MAX_TRANSLATION_WORDS = 3
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _dictd_number(digits: str) -> int:
    value = 0
    for char in digits:
        value = value * 64 + _BASE64.index(char)
    return value


def read_dictd(index: Path, data: Path) -> dict[str, str]:
    """Headword -> its entry's text, from a dictd dictionary (``.index`` and ``.dict.dz``)."""
    raw = gzip.decompress(data.read_bytes())
    entries: dict[str, str] = {}
    for line in index.read_text("utf-8").splitlines():
        word, offset, length = line.split("\t")[:3]
        if word.startswith("00-database"):
            continue
        start = _dictd_number(offset)
        entries[word] = entries.get(word, "") + raw[start : start + _dictd_number(length)].decode("utf-8")
    return entries


def _senses(entry: str) -> list[str]:
    """The translations of a FreeDict entry: the lines after the headword, numbered or not, split at commas."""
    words = []
    for line in entry.splitlines()[1:]:
        line = re.sub(r"^\s*\d+\.\s*", "", line)
        line = re.sub(r"\([^)]*\)|<[^>]*>|\[[^]]*\]", "", line)
        words += [w.strip() for w in re.split(r"[,;]", line)]
    return [w for w in words if w and len(w.split()) <= MAX_TRANSLATION_WORDS and not re.search(r"[/=]", w)]


def english_to_french(eng_fra: dict[str, str], fra_eng: dict[str, str]) -> dict[str, list[str]]:
    """English single word -> French translations: the English-French entries, then the French-English ones inverted."""
    table: dict[str, list[str]] = {}

    def add(english: str, french: str) -> None:
        english = english.lower()
        if not re.fullmatch(r"[a-z][a-z'-]*", english):
            return
        found = table.setdefault(english, [])
        if french not in found:
            found.append(french)

    for english, entry in eng_fra.items():
        for french in _senses(entry):
            add(english, french)
    for french, entry in fra_eng.items():
        for english in _senses(entry):
            add(english, french)
    return dict(sorted(table.items()))


def read_thesaurus(path: Path) -> dict[str, set[str]]:
    """Word -> every synonym of every sense, from a MyThes ``.dat`` file (the first line names its encoding)."""
    lines = path.read_text("utf-8").splitlines()[1:]
    synonyms: dict[str, set[str]] = {}
    position = 0
    while position < len(lines):
        word, senses = lines[position].rsplit("|", 1)
        position += 1
        found = synonyms.setdefault(word, set())
        for line in lines[position : position + int(senses)]:
            found.update(s for s in line.split("|")[1:] if s and s != word)
        position += int(senses)
    return synonyms


def closest_synonyms(synonyms: dict[str, set[str]]) -> dict[str, list[str]]:
    """Each word's synonyms ranked by the cosine of the two words' synonym sets, the best kept.

    A thesaurus lists every sense's words ("réunion": "jonction", "fête", "rassemblement"...): two
    words that share many synonyms are close in most senses, one shared sense only is not.
    """
    closed = {word: found | {word} for word, found in synonyms.items()}
    table: dict[str, list[str]] = {}
    for word, found in synonyms.items():
        scored = []
        for other in found:
            if other in closed:
                shared = len(closed[word] & closed[other])
                scored.append((shared / math.sqrt(len(closed[word]) * len(closed[other])), other))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        kept = [other for score, other in scored[:SYNONYMS_PER_WORD] if score >= MIN_SIMILARITY]
        if kept:
            table[word] = kept
    return dict(sorted(table.items()))


def _iso_list_name(name: str) -> list[str]:
    """ "Russie, Fédération de" -> "Fédération de Russie" and "Russie"; other names as they are."""
    if ", " in name:
        head, tail = name.split(", ", 1)
        return [f"{tail} {head}".replace("' ", "'"), head]
    return [name]


def place_names() -> list[list[str]]:
    """Each country's, region's and union's English and French names, one place a list.

    CLDR's territory names (as Babel ships them: "Russia", "Russie", "European Union", "Union
    européenne") and, for countries, ISO 3166-1's official names in English and in iso-codes' French
    (as pycountry ships them: "Russian Federation", "Fédération de Russie").
    """
    import pycountry
    from babel import Locale

    english, french = Locale("en").territories, Locale("fr").territories
    iso_french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    groups = []
    for code in sorted(english):
        if code in ("ZZ", "001") or code not in french:  # "Unknown region", "world"
            continue
        names = [english[code], french[code]]
        country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
        for name in (getattr(country, f, None) for f in ("name", "common_name", "official_name")) if country else ():
            if name:
                names += _iso_list_name(name) + _iso_list_name(iso_french.gettext(name))
        groups.append(list(dict.fromkeys(names)))
    return groups


def _write(path: Path, header: Iterable[str], rows: Iterable[str]) -> None:
    """A TSV with its header; gzipped (reproducibly: no name, no time) when ``path`` ends in .gz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("".join(f"# {line}\n" for line in header) + "".join(f"{row}\n" for row in rows)).encode("utf-8")
    if path.suffix == ".gz":
        with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
            packed.write(data)
    else:
        path.write_bytes(data)
    log.info("wrote %s (%d KB)", path, path.stat().st_size // 1024)


def _extract(packages: Path, into: Path) -> Path:
    """The files of every ``.deb`` in ``packages``, unpacked under ``into``; a folder already unpacked as it is."""
    debs = sorted(packages.glob("*.deb"))
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(into)], check=True)
    return into if debs else packages


def build_lexicons(packages: Path, out: Path = LEXICONS_DIR) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = _extract(packages, Path(tmp))
        dictd = next(root.rglob("freedict-eng-fra.index")).parent
        eng_fra = read_dictd(dictd / "freedict-eng-fra.index", dictd / "freedict-eng-fra.dict.dz")
        fra_eng = read_dictd(dictd / "freedict-fra-eng.index", dictd / "freedict-fra-eng.dict.dz")
        thesaurus = read_thesaurus(next(root.rglob("thes_fr.dat")))
    command = "briefing-qa build-lexicons (qa_eval/lexicons.py)"
    translations = english_to_french(eng_fra, fra_eng)
    _write(
        out / "en-fr" / "freedict.tsv",
        [
            "English word -> French translations, most usual first.",
            "Source: FreeDict English-French and French-English dictionaries (Debian packages "
            + " and ".join(FREEDICT_PACKAGES)
            + "), https://freedict.org. Licence: GPL-2.0-or-later.",
            f"Converted whole, with no entry added or removed by hand, by {command}.",
            "english\tfrench|french...",
        ],
        (f"{english}\t{'|'.join(french)}" for english, french in translations.items()),
    )
    synonyms = closest_synonyms(thesaurus)
    _write(
        out / "fr" / "thesaurus.tsv.gz",
        [
            "French word -> its closest synonyms, closest first.",
            "Source: the French thesaurus of LibreOffice / Grammalecte, thes_fr.dat "
            f"(Debian package {THESAURUS_PACKAGE}),",
            "by Kevin Hendricks, Frédéric Labbé and Laurent Godard. Licence: LGPL-2.1-or-later.",
            f"Each word's synonyms ranked by the cosine of their synonym sets, at most {SYNONYMS_PER_WORD} kept, "
            f"none under {MIN_SIMILARITY}; by {command}.",
            "word\tsynonym|synonym...",
        ],
        (f"{word}\t{'|'.join(found)}" for word, found in synonyms.items()),
    )
    _write(
        out / "en-fr" / "places.tsv",
        [
            "Each country's, region's and union's English and French names: one place a line.",
            "Source: CLDR's territory names (Unicode, Inc.; as Babel ships them); ISO 3166-1's official names and",
            "their French in iso-codes (as pycountry ships them). Licence: Unicode-3.0 (CLDR), LGPL-2.1 (iso-codes).",
            f"Converted whole by {command}.",
        ],
        ("\t".join(names) for names in place_names()),
    )
