"""The UI's words, in French (default) and English."""

from __future__ import annotations

LANGUAGES = {"Français": "fr", "English": "en"}

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Questions sur le briefing",
        "intro": "Posez une question sur le briefing : la réponse cite le texte mot pour mot, avec ses sources.",
        "question": "Votre question",
        "placeholder": "Ex. : Qui mène la réunion des conseillers à la sécurité nationale ?",
        "send": "Envoyer",
        "new": "Nouvelle conversation",
        "examples": "Questions fréquentes du briefing",
        "sources": "Passages cités (cliquez pour les voir dans le texte)",
        "briefing": "Le briefing",
        "answer": "Réponse",
        "not_found": "Le briefing ne répond pas à cette question.",
        "maybe": "Peut-être utile",
        "confidence": "Confiance",
        "high": "élevée",
        "medium": "moyenne",
        "low": "faible",
        "line": "ligne",
        "understood": "Compris comme",
        "error": "Je n’ai pas pu traiter cette question",
        "language": "Langue",
        "title_many": "Questions sur les briefings",
        "intro_many": "Posez une question sur les briefings, tous ou l’un d’eux : la réponse cite le texte mot "
        "pour mot, avec ses sources.",
        "documents": "Briefing interrogé ({n} briefings)",
        "all_documents": "Tous les briefings",
        "page": "p.",
    },
    "en": {
        "title": "Questions about the briefing",
        "intro": "Ask a question about the briefing: the answer quotes the text word for word, with its sources.",
        "question": "Your question",
        "placeholder": "E.g.: Who leads the meeting of the national security advisers?",
        "send": "Send",
        "new": "New conversation",
        "examples": "The briefing's frequently asked questions",
        "sources": "Cited passages (click to see them in the text)",
        "briefing": "The briefing",
        "answer": "Answer",
        "not_found": "The briefing does not answer this question.",
        "maybe": "Perhaps useful",
        "confidence": "Confidence",
        "high": "high",
        "medium": "medium",
        "low": "low",
        "line": "line",
        "understood": "Understood as",
        "error": "I could not handle this question",
        "language": "Language",
        "title_many": "Questions about the briefings",
        "intro_many": "Ask a question about the briefings, all of them or one: the answer quotes the text word "
        "for word, with its sources.",
        "documents": "Briefing asked ({n} briefings)",
        "all_documents": "All briefings",
        "page": "p.",
    },
}


def t(lang: str, key: str) -> str:
    return TEXTS.get(lang, TEXTS["fr"])[key]
