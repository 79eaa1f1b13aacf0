"""French synonyms of international news, for questions worded otherwise than the text.

Readers reword: they ask where "la réunion" is held when the text says "cette rencontre", or
what the services "surveillent" when it lists "Suivi en temps réel...". The default embedding
model is English-only, so meaning cannot bridge French words; this thesaurus does, for the
general vocabulary of diplomacy, security, politics and the verbs and adjectives news is
written with. It is not written for one briefing. Words are matched by French stem, so one
form stands for its inflections ("surveiller" for "surveillent").

>>> synonyms("reunion")
('rencontre', 'rencontrer', 'reunir', 'entrevue')
"""

from __future__ import annotations

from functools import lru_cache

from qa.core.text import fold, stem

# Each group: words one can put for another in a question about the news (nouns, verbs and
# adjectives of one family sit together). A word is in one group at most.
GROUPS: tuple[tuple[str, ...], ...] = (
    # Meetings and talks
    ("réunion", "rencontre", "rencontrer", "réunir", "entrevue"),
    ("négociation", "négocier", "pourparlers", "tractations"),
    ("discussion", "discuter", "débat", "débattre", "dialogue"),
    ("accord", "entente", "compromis"),
    ("organiser", "organisateur", "accueillir", "hôte", "héberger"),
    ("participer", "participation", "participant", "présence", "présent"),
    ("représentant", "délégué", "émissaire", "envoyé", "délégation"),
    ("dirigeant", "responsable", "leader", "chef"),
    ("pays", "nation"),
    ("allié", "partenaire"),
    ("coopération", "coopérer", "collaboration", "collaborer", "partenariat"),
    ("coordination", "coordonner", "concertation", "concerter"),
    ("soutien", "soutenir", "appui", "appuyer", "aide", "aider", "assistance"),
    ("position", "positionnement", "posture", "avis", "opinion"),
    ("annoncer", "annonce", "déclarer", "déclaration", "affirmer", "communiqué"),
    ("objectif", "visée", "viser", "ambition"),
    ("enjeu", "défi"),
    ("stratégie", "plan", "tactique", "approche", "démarche"),
    ("décision", "décider", "choix", "choisir", "arbitrage", "trancher"),
    ("rôle", "fonction", "mission", "tâche", "poste"),
    ("important", "importance", "crucial", "essentiel", "majeur", "primordial", "clé"),
    ("difficile", "difficulté", "complexe", "délicat", "ardu"),
    ("raison", "cause", "motif", "motivation"),
    ("conséquence", "effet", "impact", "répercussion", "retombée"),
    ("influence", "influencer", "peser", "poids"),
    ("lien", "relation", "rapport"),
    ("volonté", "détermination", "intention"),
    ("ferme", "fermeté", "inflexible"),
    ("priorité", "prioritaire", "urgence", "urgent"),
    ("avenir", "futur"),
    # Conflict and security
    ("guerre", "conflit", "hostilités", "affrontement", "combats"),
    ("attaque", "offensive", "assaut", "frappe", "agression"),
    ("armée", "troupes", "soldats", "militaires"),
    ("menace", "menacer", "danger", "risque"),
    ("surveiller", "surveillance", "suivi", "suivre", "observer", "observation", "contrôler", "contrôle"),
    ("renseignement", "espionnage"),
    ("partage", "partager", "échange", "échanger", "transmettre", "transmission"),
    ("prévenir", "prévention", "éviter", "empêcher"),
    ("escalade", "aggravation", "embrasement"),
    ("défense", "défendre", "protection", "protéger"),
    ("garantir", "garantie", "assurer", "préserver"),
    ("sanction", "sanctionner", "embargo", "pénalité"),
    ("paix", "pacifique", "apaisement"),
    ("trêve", "armistice"),
    ("résolution", "résoudre", "règlement", "régler", "solution", "issue"),
    ("territoire", "territorial", "sol"),
    ("invasion", "envahir", "occupation", "occuper"),
    ("armement", "équipement", "matériel"),
    ("livraison", "livrer", "fournir", "fourniture", "envoi", "envoyer"),
    ("tension", "crispation", "friction"),
    # Politics and the economy
    ("gouvernement", "exécutif", "administration"),
    ("élection", "scrutin", "vote"),
    ("pression", "contrainte"),
    ("population", "civils", "habitants"),
    ("financement", "financer", "fonds", "budget"),
    ("reconstruction", "reconstruire"),
    # Verbs of reporting and of change
    ("demander", "demande", "réclamer", "exiger", "appeler", "appel"),
    ("refuser", "refus", "rejeter", "rejet"),
    ("critiquer", "critique", "dénoncer", "condamner"),
    ("inquiétude", "préoccupation", "crainte", "inquiet", "préoccupé"),
    ("renforcer", "renforcement", "consolider", "consolidation", "intensifier"),
    ("maintenir", "maintien", "conserver", "poursuivre", "continuer"),
    ("commencer", "début", "débuter", "commencement"),
    ("terminer", "fin", "conclure", "conclusion", "clôture"),
    ("lieu", "endroit", "site", "emplacement"),
    ("rapide", "rapidement", "vite", "prompt"),
    ("nouveau", "récent", "inédit"),
    ("symboliser", "symbole", "illustrer", "incarner"),
    # A country and its people: "les troupes de la Russie" are "les troupes russes".
    ("russie", "russe"),
    ("ukraine", "ukrainien"),
    ("europe", "européen"),
    ("france", "français"),
    ("allemagne", "allemand"),
    ("chine", "chinois"),
    ("amérique", "américain"),
    ("occident", "occidental"),
)  # fmt: skip


@lru_cache(maxsize=1)
def _groups_by_stem() -> dict[str, tuple[tuple[str, str], ...]]:
    """Each stem of a group's words -> the group, as (folded word, its stem) pairs."""
    table: dict[str, tuple[tuple[str, str], ...]] = {}
    for group in GROUPS:
        words = [fold(w) for w in group]
        pairs = tuple(zip(words, stem(words), strict=True))
        for _word, word_stem in pairs:
            table[word_stem] = pairs
    return table


# Verb endings the French stemmer keeps ("surveillent", "maintenues"), with the infinitive ending they
# are looked up as: present tense of -er verbs, the most common; past participles in -u of -ir verbs.
_VERB_ENDINGS = (("ent", "er"), ("ons", "er"), ("ez", "er"), ("ues", "ir"), ("ue", "ir"), ("us", "ir"), ("u", "ir"))


def synonyms(word: str) -> tuple[str, ...]:
    """Folded synonyms of a folded word (any inflection), without the words that share its stem."""
    table = _groups_by_stem()
    forms = [word] + [word[: -len(e)] + inf for e, inf in _VERB_ENDINGS if word.endswith(e) and len(word) > len(e) + 3]
    stems = stem(forms)
    group = next((table[s] for s in stems if s in table), ())
    return tuple(w for w, word_stem in group if word_stem != stems[0])
