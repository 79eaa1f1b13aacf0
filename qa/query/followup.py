"""Follow-up questions: "Et la Russie ?" after "Qui participe à la réunion ?" is read with the previous one.

A question is a follow-up when it opens with a connective ("et", "and", "what about", "quid
de"...) or is too short to stand alone (two content words or fewer) while a previous question
exists. It is then searched together with the previous question, its own words weighing
more; the reply says so (``interpreted_as``).

>>> contextualize("Et la Russie ?", "Qui participe à la réunion ?")
'Qui participe à la réunion ?'
>>> contextualize("Quel est le rôle de l'OTAN ?", "Qui participe à la réunion ?") is None
True
"""

from __future__ import annotations

import re

from qa.core.text import content_words

_CONNECTIVE = re.compile(
    r"^\s*(et|and|mais|but|aussi|also|what about|how about|and what about|quid de|qu'en est-il de|"
    r"qu’en est-il de|et pour|et concernant|et du|et de|et les|et le|et la|et l'|et l’)\b",
    re.IGNORECASE,
)
MAX_STANDALONE_WORDS = 2


def contextualize(question: str, previous: str | None) -> str | None:
    """The previous question when this one leans on it (to be searched with it), else None."""
    if not previous or not previous.strip():
        return None
    leans = bool(_CONNECTIVE.match(question)) or len(content_words(question)) <= MAX_STANDALONE_WORDS
    if not leans or not content_words(question):
        return None
    return previous.strip()
