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
        "not_given_number": "Le briefing ne précise pas ce nombre.",
        "not_given_time": "Le briefing ne précise pas cette date.",
        "not_given_duration": "Le briefing ne précise pas cette durée.",
        "maybe": "Peut-être utile :",
        "confidence": "Confiance",
        "colon": " : ",
        "confidence_tooltip": "Probabilité que le briefing réponde : {p:.2f}",
        "high": "élevée",
        "medium": "moyenne",
        "low": "faible",
        "line": "ligne",
        "understood": "Compris comme",
        "ask_alone": "Poser la question seule",
        "empty_question": "Écrivez d’abord une question.",
        "welcome": "**Bonjour !** Posez une question sur le briefing : je réponds par des extraits du texte, "
        "mot pour mot, avec leurs sources. Par exemple :",
        "welcome_many": "**Bonjour !** Posez une question sur les briefings : je réponds par des extraits des "
        "textes, mot pour mot, avec leurs sources. Par exemple :",
        "ask_with_previous": "La lire avec la question précédente",
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
        "not_given_number": "The briefing does not give this number.",
        "not_given_time": "The briefing does not give this date.",
        "not_given_duration": "The briefing does not give this duration.",
        "maybe": "Perhaps useful:",
        "confidence": "Confidence",
        "colon": ": ",
        "confidence_tooltip": "Probability that the briefing answers: {p:.2f}",
        "high": "high",
        "medium": "medium",
        "low": "low",
        "line": "line",
        "understood": "Understood as",
        "ask_alone": "Ask the question on its own",
        "empty_question": "Please write a question first.",
        "welcome": "**Hello!** Ask a question about the briefing: I answer with extracts of the text, word for "
        "word, with their sources. For example:",
        "welcome_many": "**Hello!** Ask a question about the briefings: I answer with extracts of the texts, word "
        "for word, with their sources. For example:",
        "ask_with_previous": "Read it with the previous question",
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
