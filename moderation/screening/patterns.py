"""Pattern rules: threats, dehumanisation and calls for harm against a group.

The patterns are regular expressions over the de-obfuscated, lower-cased copy of a
comment (``normalize.rewrite``), so "I w1ll k i l l you" reads as a threat, and
their spans map back to the original body. Each hit names its pattern for the
moderator. A match that is negated in its own words ("Muslims are not vermin")
never matches; one that is quoted to report or condemn it ("He wrote 'I will kill
you' and was arrested") or framed as counter-speech ("Saying that immigrants are
rats is disgusting") is suppressed by ``suppressing_cue``.

Groups are the protected characteristics (race, ethnicity, nationality and
immigration status, religion, gender, sexual orientation, gender identity,
disability): "politicians are rats" is an insult for the insult rules and the
model, not dehumanisation of a group.

``rule_features`` turns the same analysis, and the word list's matches, into the
numbers the screen model's heads read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from moderation.screening.base import Action, RuleHit, Span
from moderation.screening.normalize import Rewrite, rewrite

# --- The lexicon of protected groups ---------------------------------------------

# fmt: off
# Nouns that name a group on their own, plural (and a few singular) forms.
GROUP_NOUNS: dict[str, tuple[str, ...]] = {
    "race or ethnicity": (
        "blacks", "whites", "asians", "hispanics", "latinos", "latinas", "latinx",
        "arabs", "jews", "jew", "gypsies", "gipsies", "roma", "romanies", "africans",
        "aborigines", "aboriginals", "caucasians", "native americans",
        "first nations", "pacific islanders", "middle easterners",
    ),
    "nationality or origin": (
        "immigrants", "immigrant", "migrants", "migrant", "refugees", "refugee",
        "asylum seekers", "asylum seeker", "foreigners", "foreigner", "mexicans",
        "chinese", "japanese", "koreans", "vietnamese", "filipinos", "indians",
        "pakistanis", "bangladeshis", "afghans", "iraqis", "iranians", "syrians",
        "palestinians", "israelis", "turks", "kurds", "somalis", "nigerians",
        "ethiopians", "eritreans", "sudanese", "moroccans", "algerians",
        "egyptians", "libyans", "lebanese", "russians", "ukrainians", "romanians",
        "bulgarians", "albanians", "serbs", "croats", "bosnians", "hungarians",
        "czechs", "germans", "italians", "spaniards", "portuguese", "greeks",
        "scots", "brits", "americans", "canadians", "australians", "brazilians",
        "colombians", "venezuelans", "cubans", "haitians", "jamaicans",
        "puerto ricans", "dominicans", "guatemalans", "hondurans", "salvadorans",
        "europeans", "latin americans", "swedes", "danes", "finns", "norwegians",
        "the french", "the english", "the irish", "the dutch", "the welsh",
        "the british", "the scottish", "the swiss", "the spanish", "the polish",
    ),
    "religion": (
        "muslims", "muslim", "moslems", "moslem", "christians", "catholics",
        "protestants", "hindus", "sikhs", "buddhists", "mormons", "atheists",
        "jehovah's witnesses",
    ),
    "gender": ("women", "females", "ladies", "girls", "men", "males", "boys"),
    "sexual orientation": (
        "gays", "the gays", "lesbians", "bisexuals", "homosexuals", "queers", "homos",
        "lgbt", "lgbtq", "lgbtq+", "lgbtqia", "lgbtqia+", "dykes", "fags", "faggots",
    ),
    "gender identity": (
        "transgenders", "transsexuals", "trannies", "trannys", "transwomen",
        "transmen", "enbies",
    ),
    "disability": (
        "the disabled", "the handicapped", "the blind", "the deaf",
        "the mentally ill", "cripples", "autistics", "autists", "amputees",
        "paraplegics", "quadriplegics", "retards", "spastics", "wheelchair users",
        "people with disabilities", "people with a disability", "people with autism",
        "people with down syndrome", "people with down's syndrome",
    ),
}

# Adjectives that name a group before a person noun ("black people", "gay men"):
# alone they are no group ("black coffee", "gay marriage").
GROUP_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "race or ethnicity": (
        "black", "white", "brown", "asian", "hispanic", "latino", "latina", "arab",
        "jewish", "african", "aboriginal", "indigenous", "native", "mixed-race",
        "mixed race", "biracial", "romani", "gypsy",
    ),
    "nationality or origin": (
        "immigrant", "migrant", "refugee", "foreign", "mexican", "chinese",
        "japanese", "korean", "vietnamese", "filipino", "indian", "pakistani",
        "bangladeshi", "afghan", "iraqi", "iranian", "syrian", "palestinian",
        "israeli", "turkish", "kurdish", "somali", "nigerian", "ethiopian",
        "sudanese", "moroccan", "algerian", "egyptian", "lebanese", "russian",
        "ukrainian", "romanian", "bulgarian", "albanian", "polish", "german",
        "french", "italian", "spanish", "portuguese", "greek", "irish", "english",
        "scottish", "welsh", "british", "dutch", "american", "canadian",
        "australian", "brazilian", "cuban", "haitian", "jamaican", "middle eastern",
    ),
    "religion": (
        "muslim", "islamic", "christian", "catholic", "protestant", "hindu", "sikh",
        "buddhist", "mormon", "atheist",
    ),
    "gender": ("female", "male"),
    "sexual orientation": (
        "gay", "lesbian", "bisexual", "bi", "homosexual", "queer", "lgbt", "lgbtq",
        "lgbtq+",
    ),
    "gender identity": (
        "trans", "transgender", "transsexual", "non-binary", "nonbinary",
        "non binary", "intersex", "genderqueer",
    ),
    "disability": (
        "disabled", "handicapped", "autistic", "deaf", "blind", "mentally ill",
        "mentally disabled", "learning disabled",
    ),
}

# The person nouns a group adjective qualifies.
PERSON_HEADS = (
    "people", "persons", "person", "folk", "folks", "men", "man", "women", "woman",
    "guys", "kids", "children", "boys", "girls", "families", "communities",
    "community", "population", "immigrants", "migrants", "refugees", "citizens",
    "residents", "individuals", "youths", "lads", "ladies", "nationals", "voters",
    "workers", "students", "guy", "lad", "girl", "boy", "kid", "bloke", "fella",
    "dude", "family", "couple", "couples", "teen", "teens", "teenagers", "youth",
)

# Adjectives too common in other senses to mask or count alone ("black hole").
_COMMON_ADJECTIVES = frozenset(
    {"black", "white", "brown", "native", "foreign", "bi", "blind", "deaf", "male",
     "female", "english", "french", "dutch", "indian", "turkish", "american",
     "polish", "german", "greek", "disabled", "handicapped"}
)  # fmt: skip


# fmt: on


def _alternation(words: Iterable[str]) -> str:
    """A regex for any of words, built as a trie: fast for long lists."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(c) + build(n) for c, n in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _words(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


def _all(table: dict[str, tuple[str, ...]]) -> list[str]:
    return [w for words in table.values() for w in words]


# "The blind", "the French": a group only where a verb or the sentence's end
# follows, not in "the blind spot" or "the French press".
_COLLECTIVE_END = (
    r"(?=\s*(?:[^\w\s']|$)|\s(?:and|or|are|aren't|is|isn't|were|was|should|"
    r"shouldn't|must|need|needs|will|would|can|can't|could|have|has|had|do|don't|"
    r"does|doesn't|did|deserve|get|got|who|that|which|from|in|out|to|of|back|like|"
    r"always|never|all|just|really|only|also|still|themselves|ought|r)\b)"
)
_THE_NOUNS = [w for w in _all(GROUP_NOUNS) if w.startswith("the ")]
_PLAIN_NOUNS = [w for w in _all(GROUP_NOUNS) if not w.startswith("the ")]
# A group named by a noun or by an adjective and a person noun, as a regex.
GROUP = (
    rf"(?:(?:{_alternation(_all(GROUP_ADJECTIVES))}) (?:{_alternation(PERSON_HEADS)})"
    rf"|{_alternation(_PLAIN_NOUNS)}|(?:{_alternation(_THE_NOUNS)}){_COLLECTIVE_END})"
    r"(?![\w+'])"
)
# The patterns read a copy of the text with each group's name overwritten by this
# mark, one per character, so that offsets stay and the long list is read once.
_MARK = "\ue000"
_MARKED = f"{_MARK}++"  # possessive: a name is read whole
# Before a group: how many, and the words that sneer.
_QUANT = (
    r"(?:(?:all|most|many|these|those|the|every|every single|every last|so many|"
    r"some|any|a|an|another|next|every other|all the|all of the|all these|"
    r"all those|all of these|all of those|"
    r"these fucking|those fucking|fucking|filthy|dirty|damn|bloody|stinking|"
    r"disgusting|goddamn) )*"
)
# After a group as an object: the noun phrase ends there ("ban chinese" is not "ban
# chinese apps").
_NP_END = (
    r"(?=\s*(?:[^\w\s']|$)|\s(?:and|or|who|which|that|from|in|out|back|off|to|now|"
    r"too|today|already|because|before|after|for|at|on|with|without|like|if|as|so|"
    r"then|all|forever|immediately|asap|instead|but|while|when|where|here|there|"
    r"please|first|again|once|one|ever|period|altogether|entirely|completely|you|"
    r"we|they|i|he|she|everywhere|whenever|wherever|tonight|tomorrow|soon|later|"
    r"this|next|on sight)\b)"
)

# --- Targets, verbs and nouns -------------------------------------------------

# fmt: off
PERSON_NOUNS = (
    "journalists?", "reporters?", "writers?", "authors?", "editors?", "columnists?",
    "presenters?", "anchors?", "judges?", "mps?", "senators?", "congress(?:man|woman)",
    "politicians?", "ministers?", "mayors?", "president", "governor",
    "council+ors?", "officers?", "cops?", "police(?:man|men|woman|women)",
    "teachers?", "doctors?", "nurses?", "neighbou?rs?", "man", "men", "woman",
    "women", "guys?", "girls?", "boys?", "lady", "ladies", "dude", "bloke", "kids?",
    "child", "children", "baby", "family", "families", "wife", "husband", "sons?",
    "daughters?", "mother", "mum", "mom", "father", "dad", "brothers?", "sisters?",
    "boss", "landlord", "ex", "girlfriend", "boyfriend", "people", "person",
    "bitch(?:es)?", "bastards?", "idiots?", "morons?", "pricks?", "scum", "traitors?",
    "cunts?", "twats?", "a(?:ss|rse)holes?", "fuckers?", "creeps?", "clowns?",
    "fools?", "losers?", "cowards?", "liars?", "hacks?", "commenters?", "posters?",
    "trolls?", "op", "mods?", "moderators?", "admins?", "protest[eo]rs?",
    "activists?", "staff", "owners?", "drivers?", "cyclists?", "fella", "lot",
)
# fmt: on
_PERSON = _words(*PERSON_NOUNS)
_DET = r"(?:the|that|this|those|these|his|her|their|your|ur|my|every|each|any|some)"
_PRONOUN = (
    r"(?:you|u|ya|ye|yous|youse|y'all|you all|all of you|each of you|every "
    r"(?:single |last )?one of (?:you|them|u)|him|her|them|'em|em|everyone|"
    r"everybody|someone|somebody|all of them|each of them)"
)
_SECOND = r"(?:you|u|ya|ye|yous|youse|y'all|you all|all of you|each of you)"
# Whom a threat is aimed at: a person, a pronoun, or a group.
# "the next gay I see": a group's adjective used as its noun.
_ADJECTIVE_AS_NOUN = (
    rf"(?:a|an|the next|any|every|some|that|this) (?:fucking |filthy |dirty )?"
    rf"(?:{_alternation(_all(GROUP_ADJECTIVES))})(?=\s(?:i|you|we|who|that|he|she|"
    r"they|on|in|at|near|around)\b|\s*(?:[.!?,;]|$))"
)
_TARGET = (
    rf"(?:{_PRONOUN}|(?:{_DET}|a|an) (?:[a-z'-]+ ){{0,2}}?{_PERSON}|{_QUANT}{_MARKED}|"
    rf"{_ADJECTIVE_AS_NOUN})(?![\w'])"
)
# A speaker who means to act: "I will", "I'm gonna", "we're going to", "imma".
_WILL = (
    r"(?:'ll|'m (?:going to|gonna|about to|coming to|coming (?:over|round|back) to)"
    r"|'re (?:going to|gonna|coming to)|'d love to|'ve got to| (?:will|shall|am going "
    r"to|am gonna|am about to|am coming to|are going to|are gonna|gonna|want to|"
    r"wanna|intend to|plan to|plan on|would love to|can't wait to|cannot wait to|"
    r"must|have to|need to|got to|gotta|am gonna have to|swear (?:to god )?"
    r"(?:i'll|i will|we'll|we will)|promise (?:you )?(?:i'll|i will)))"
)
_OPENING = (
    rf"(?:(?<![\w'])(?:i|we|me and my (?:boys|friends|mates)){_WILL}|(?<![\w'])"
    r"(?:imma|i'mma|ima|im (?:going to|gonna))|(?:^|(?<=[.!?,;:\n]) ?)ill) "
)
_ADVERBS = (
    r"(?:(?:personally|fucking|fuckin|really|just|actually|literally|then|also|"
    r"eventually|finally|soon|one day|come and|come over and|go and|go|come|"
    r"gladly|happily|slowly|myself|ourselves|find and|hunt you down and) )*"
)
# Verbs of harm whose object is enough.
_HARM = (
    r"(?:kill|murder|hurt|harm|stab|shoot|strangle|choke|slaughter|butcher|behead|"
    r"decapitate|hang|lynch|rape|punch|assault|maim|torture|poison|drown|execute|"
    r"gun down|shank|knife|kneecap|beat up|bash|batter|throttle|smother|"
    r"suffocate|bludgeon|pummel|set fire to|run over|hunt down|track down|"
    r"come for|come after|end|finish|slap|kick|cut|skin|gut|whack|smack|rough up|"
    r"hit|break|destroy|annihilate|eliminate|take out)"
)
# "shoot you an email", "hit you up", "cut him some slack": not threats.
_HARMLESS_TAIL = (
    r"(?! (?:an? |some |the |a quick )?(?:e-?mail|message|text|note|line|dm|pm|"
    r"invite|question|photo|picture|call|link|look|reminder)s?\b| with (?:the |some "
    r")?(?:kindness|love|facts|truth|reality|logic|questions?|data|numbers|stats|"
    r"science|compliments|an? \w+ of)| up\b| out\b| off\b| in (?:on|for)\b|"
    r" in(?=\s*(?:[.!?,;]|$))| down to size|"
    r" (?:some |a little )?slack| a (?:check|cheque|deal|break)| loose| where it "
    r"hurts| down\b| at the (?:polls|ballot box|box office)| in the (?:polls|election|"
    r"ratings|game|match|debate|argument|final)| in court| on (?:saturday|sunday|"
    r"the pitch|the field|the court))"
)
_BODY = r"(?:neck|legs?|arms?|jaw|face|nose|bones|skull|teeth|back|head|throat|heart)"
_POSSESSIVE = r"(?:your|ur|his|her|their|that \w+'s|the \w+'s)"
# "find" is a threat aimed at someone addressed, or beside harm or an address.
_FIND_END = r"(?=\s*(?:[.!?,;:]|$)|\s(?:and|wherever|soon|eventually|one day|tonight))"

# "I know where you live", "I'll find out where the journalist works".
_KNOW_WHERE = (
    r"(?<![\w'])(?:i|we)(?: already| now| still)?(?: know| found out| found| have "
    r"found|'ve found|'ll find(?: out)?| will find(?: out)?| am going to find(?: "
    r"out)?|'m going to find(?: out)?|'m gonna find(?: out)?| gonna find(?: out)?| "
    r"can find(?: out)?| know exactly|'ve got| have got| got| have) where "
)
_LIVES = (
    r" (?:lives?|living|sleeps?|works?|stays?|parks?|go(?:es)? to school|hangs? "
    r"out|drinks|shops?)(?![\w'])"
)

# Dehumanising nouns, by the comparison they draw.
DEHUMANISING: dict[str, tuple[str, ...]] = {
    "vermin": (
        "rats?",
        "vermin",
        "cockroach(?:es)?",
        "roach(?:es)?",
        "insects?",
        "bugs?",
        "lice",
        "louse",
        "fleas?",
        "ticks?",
        "maggots?",
        "worms?",
        "termites?",
        "pests?",
        "locusts?",
        "rodents?",
        "mosquito(?:e?s)?",
    ),
    "parasites": ("parasites?", "parasitic", "leech(?:es)?", "bloodsuckers?"),
    "disease": (
        "a plague",
        "plague",
        "a disease",
        "disease",
        "diseased",
        "a virus",
        "virus",
        "a cancer",
        "cancer",
        "cancerous",
        "a tumou?r",
        "tumou?rs?",
        "an infestation",
        "infestation",
        "an infection",
        "infection",
        "a blight",
        "blight",
        "a scourge",
        "scourge",
        "germs?",
        "bacteria",
        "a contagion",
        "contagion",
    ),
    "filth": (
        "filth",
        "filthy",
        "scum",
        "garbage",
        "trash",
        "rubbish",
        "waste",
        "excrement",
        "shit",
        "sewage",
        "dirt",
        "slime",
        "human garbage",
        "human trash",
        "human waste",
    ),
    "animals": (
        "savages?",
        "animals?",
        "beasts?",
        "brutes?",
        "monkeys?",
        "apes?",
        "baboons?",
        "gorillas?",
        "chimps?",
        "dogs?",
        "pigs?",
        "swine",
        "hogs?",
        "snakes?",
        "vipers?",
        "mongrels?",
        "creatures?",
        "cattle",
        "livestock",
        "hyenas?",
        "jackals?",
    ),
    "subhumans": (
        "subhumans?",
        "sub-humans?",
        "sub humans?",
        "untermenschen",
        "inhuman",
        "less than human",
        "not human",
        "not even human",
        "barely human",
        "hardly human",
        "not humans",
        "not people",
        "not real people",
        "not even people",
        "not fully human",
        "a lower species",
        "lower species",
        "an inferior race",
        "inferior race",
        "inferior beings?",
    ),
}
_DEHUMAN = _words(*(n for nouns in DEHUMANISING.values() for n in nouns))
# One more word may stand before the noun ("degenerate animals"), not a negation
# or a verb ("are not rats", "are fleeing disease").
_ADJECTIVE = (
    r"(?:(?!(?:not|never|no|hardly|nothing|without|against|victims|afraid|"
    r"scared|prone|immune|vulnerable|treated|called|compared|seen|viewed|"
    r"portrayed|described|depicted|labelled|labeled|branded)\b)[a-z]+(?<!ing) )?"
)
# The dehumanising noun heads its phrase: "are rats", "are a cancer on", not "are
# big dog lovers".
_HEAD_END = (
    r"(?![\w'-])(?=\s*(?:[^\w\s']|$)|\s(?:and|or|but|who|that|which|from|in|on|"
    r"of|to|with|than|like|because|for|all|everywhere|anyway|too|period|though|"
    r"tbh|lol|imo|honestly|really|seriously|just|themselves|if|so|no|not|is|are|"
    r"nothing|spreading|ruining|destroying|infesting|invading|taking|breeding)\b)"
)
_NOT_HUMAN = (
    r"(?:aren't|arent|isn't|isnt|are not|is not) (?:even |really |fully |real |"
    r"truly )?(?P<human>human(?: beings)?|humans|people|persons)(?![\w'])"
)
_COPULA = (
    r"(?:are|r|is|were|'re|=|are all|are just|are nothing but|are no better than|"
    r"are little more than|are basically|are literally|are like|are such|"
    r"are worse than|are all just)"
)
_DEHUMAN_FILL = (
    r"(?:[a-z]+ (?:and|&) |(?:all|just|nothing but|basically|literally|like|no "
    r"better than|nothing more than|no more than|little "
    r"more than|worse than|the|a|an|such|fucking|filthy|dirty|disgusting|"
    r"diseased|stinking|bunch of|pack of|swarm of|horde of|herd of|nest of|"
    r"colony of|breed of|kind of|type of|sort of|species of|"
    r"(?:a )?plague of|really|truly|simply|still|only|mere|merely) )*"
)
_BREED = r"(?:breed|multiply|spread|swarm|infest|reproduce|crawl)"
_LIKE_VERMIN = (
    r"(?:rats|rabbits|cockroaches|roaches|vermin|flies|insects|locusts|a virus|"
    r"a disease|cancer|a cancer|a plague|the plague|maggots|lice|animals)"
)
# Group names that work as adjectives before an insult ("immigrant scum"): not
# colours or nationalities ("black rats" and "asian hornets" are animals).
_ATTRIBUTIVE = (
    "immigrant",
    "migrant",
    "refugee",
    "muslim",
    "moslem",
    "jew",
    "jewish",
    "islamic",
    "tranny",
    "gypsy",
    "asylum seeker",
    "dyke",
    "faggot",
    "fag",
    "homo",
)
_ATTRIBUTIVE_NOUN = (
    r"(?:rats|vermin|cockroaches|roaches|scum|filth|parasites|savages|pigs|apes|"
    r"monkeys|swine|subhumans|garbage|trash|maggots|leeches|locusts)"
)

# What a group is said to deserve: violence or exclusion.
_VIOLENCE_PASSIVE = (
    r"(?:killed|shot|hanged|hung|gassed|exterminated|wiped out|eradicated|"
    r"eliminated|burned|burnt|burned alive|sterili[sz]ed|castrated|put down|"
    r"lined up and shot|lined up against a wall|culled|purged|executed|lynched|"
    r"stoned|raped|beaten|beaten up|slaughtered|murdered|tortured|bombed|nuked|"
    r"strung up|shot on sight|wiped off the (?:map|face of the earth)|put in "
    r"(?:camps|gas chambers|ovens)|sent to (?:the )?(?:gas chambers|camps|ovens))"
)
_EXCLUSION_PASSIVE = (
    r"(?:deported|banned from (?:[\w']+ ){0,2}[\w']+|banned|removed|kicked out|"
    r"thrown "
    r"out|sent back|sent home|locked up|rounded up|expelled|segregated|excluded|"
    r"interned|put in camps|stripped of (?:their )?(?:citizenship|rights)|denied "
    r"(?:entry|citizenship|rights|the vote))"
)
_DESERVE = (
    r"(?:should|shud|must|need to|needs to|ought to|oughta|deserve to|deserves to|"
    r"have to|has to|gotta|got to)(?: all| just| really| fucking| simply| "
    r"definitely| be made to)*"
)
_VIOLENT_FATE = (
    rf"(?:be {_VIOLENCE_PASSIVE}|get {_VIOLENCE_PASSIVE}|die|burn|rot|hang|suffer|"
    r"drown|starve|be dead|disappear|cease to exist|not exist)"
)
_EXCLUDED_FATE = (
    rf"(?:be {_EXCLUSION_PASSIVE}|get {_EXCLUSION_PASSIVE}|(?:go back(?: home| to "
    r"(?:where (?:they|you) came from|(?:their|your) (?:own )?(?:country|countries|"
    r"homelands?|shitholes?)))?|go home|leave (?:the|this|our|my) country|get out|"
    r"get out of (?:the|this|our|my) country)(?! (?:when|once|after|if|as soon as|"
    r"eventually|voluntarily|safely|for (?:a|the) (?:holiday|holidays|summer)))|"
    r"not be allowed (?:to (?:vote|work|"
    r"marry|adopt|teach|live|exist|be|come|enter|own|drive|hold|serve|run|"
    r"breed|have children)|in|here|near)|never be allowed|have no rights|"
    r"lose (?:their|all|all their) rights)"
)
_HARM_CALL = (
    r"(?:kill|murder|exterminate|eradicate|eliminate|wipe out|gas|shoot|hang|lynch|"
    r"burn|nuke|bomb|slaughter|execute|behead|butcher|genocide|cull|purge|cleanse|"
    r"sterili[sz]e|castrate|stone|rape|beat up|hunt down|hunt|string up|line up|"
    r"get rid of|rid (?:the|our|this) (?:country|world|nation|streets?) of|"
    r"open fire on|fire on|shoot at|drown|sink|run over|stab|attack|torch|"
    r"machine ?gun|mow down|gun down|massacre|annihilate|destroy|crush|"
    r"killing|murdering|exterminating|shooting|hanging|gassing|lynching|burning|"
    r"bombing|hunting|beating|stabbing|slaughtering|executing|drowning|raping|"
    r"stoning|nuking)"
)
_EXCLUDE_CALL = (
    r"(?:deport|expel|kick out|throw out|send back|send home|ban|round up|lock up|"
    r"intern|segregate|keep out|close the borders to|get out)"
)
# Where a call to action starts: a sentence or clause, or someone urging it.
_CALL_START = (
    r"(?:(?:^|(?<=[.!?;:,\n\"(])\s*|(?<![\w'])(?:and|so|then|just|please|lets|"
    r"let's|let us|time to|it's time to|its time to|why not|i say|i vote) )"
    r"(?:(?:should|must|need to|have to|ought to|gotta|got to|just|all|to|we|go|"
    r"and|finally|really|seriously|fucking|start|begin) )*|(?<![\w'])(?:we|i)"
    r"(?:'ll|'d|'d love to|'re going to|'re gonna|'m going to|'m gonna| (?:(?:just|"
    r"really|seriously|finally|all) )*(?:should|must|need to|have to|ought to|"
    r"gotta|got to|will|shall|want to|wanna|would|would love to|are going to|"
    r"am going to|are gonna|am gonna))(?: (?:just|all|really|finally|go|"
    r"seriously|fucking|start|begin))* |(?<![\w'])(?:you|they|someone|somebody|"
    r"anyone|people|the government|governments|the police|the army|the state) "
    r"(?:(?:just|really|seriously|finally|all) )*(?:should|must|need to|needs to|"
    r"have to|has to|ought to|gotta|got to)(?: (?:just|all|really|finally|go|"
    r"seriously|fucking|start|begin))* )"
)
# With a pronoun for the group, only a sentence's start or an urging: "...,
# rape them and kill them" may describe what others do.
_CALL_START_STRICT = (
    r"(?:(?:^|(?<=[.!?\n])\s*|(?<![\w'])(?:please|lets|"
    r"let's|let us|time to|it's time to|its time to|why not|i say|i vote) )"
    r"(?:(?:should|must|need to|have to|ought to|gotta|got to|just|all|to|we|go|"
    r"and|finally|really|seriously|fucking|start|begin) )*|(?<![\w'])(?:we|i)"
    r"(?:'ll|'d|'d love to|'re going to|'re gonna|'m going to|'m gonna| (?:(?:just|"
    r"really|seriously|finally|all) )*(?:should|must|need to|have to|ought to|"
    r"gotta|got to|will|shall|want to|wanna|would|would love to|are going to|"
    r"am going to|are gonna|am gonna))(?: (?:just|all|really|finally|go|"
    r"seriously|fucking|start|begin))* |(?<![\w'])(?:you|they|someone|somebody|"
    r"anyone|people|the government|governments|the police|the army|the state) "
    r"(?:(?:just|really|seriously|finally|all) )*(?:should|must|need to|needs to|"
    r"have to|has to|ought to|gotta|got to)(?: (?:just|all|really|finally|go|"
    r"seriously|fucking|start|begin))* )"
)
# Where a statement about a group starts: not "men who abuse women should ...".
_CLAUSE_START = (
    r"(?:^|(?<=[.!?;:,\n\"(])\s*|(?<![\w'])(?:and|but|so|because|cause|cuz|coz|cos|"
    r"since|that|honestly|frankly|imo|imho|tbh|well|yes|yeah|no|as|then|clearly|"
    r"obviously|basically|literally|simply|opinion|truth is|fact is|face it|admit "
    r"it|remember|know|knows|realise|realize|understand|think|believe|say|says|"
    r"said|feel|guess|reckon|bet|swear|saying|sure|agree|if|when|why|while) )"
)


def _subject(name: str = "subject") -> str:
    # The statement starts at its subject (the capture), so that a frame before it
    # ("I don't think ...") stays outside the match.
    return rf"{_CLAUSE_START}(?P<{name}>{_QUANT}{_MARKED})"


_THEY = (
    r"(?<![\w'])(?:they|these people|those people|such people|people like "
    r"(?:them|that)|that lot|their kind)"
)
_WISH_SUBJECT = (
    r"(?:(?<![\w'])(?:you|u|ya|y'all|you all|all of you|he|she|they|your (?:kind|"
    r"lot|type|family|kids)|people like (?:you|u|him|her|them|that|this)|ppl like "
    rf"(?:u|you)|(?:the|that|this|those|these) (?:[a-z'-]+ ){{0,2}}?{_PERSON})|"
    rf"{_CLAUSE_START}(?P<subject>(?:all )?{_PERSON}))"
)
# "hurt by his words", "rot in prison", "kicked out": no violence wished.
_NOT_BY_WORDS = (
    r"(?! by (?:this|that|the|his|her|their|these|those|such|what|how|your|my|our|"
    r"it|words|comments|criticism)| (?:in|behind) (?:prison|jail|a cell|bars)|"
    r" out\b)"
)


def _read(text: str) -> Rewrite:
    # Letter runs cut to one: "kiiill" is "kill" (the model's copy keeps two).
    return rewrite(text, runs=1)


@dataclass(frozen=True)
class _Reading:
    """A text as the patterns read it."""

    rw: Rewrite
    # Its words, split at anything but a letter.
    words: frozenset[str]
    # rw.lower with each group's name overwritten by _MARK.
    masked: str

    @property
    def groups(self) -> bool:
        return _MARK in self.masked


@lru_cache(maxsize=1024)
def _reading(text: str) -> _Reading:
    rw = _read(text)
    masked = _group().sub(lambda m: _MARK * len(m.group()), rw.lower)
    return _Reading(rw, frozenset(_WORD.findall(rw.lower)), masked)


# --- Counter-speech ----------------------------------------------------------

_SAID = (
    r"(?:said|says|wrote|writes|posted|tweeted|texted|messaged|emailed|shouted|"
    r"yelled|screamed|told|threatened|claimed|chanted)"
)
# Before a statement in its sentence: it is quoted, reported or rejected.
_FRAME = re.compile(
    r"(?<![\w'])(?:(?<!i'm )(?<!i am )(?<!im )(?<!just )saying|claiming|calling|"
    r"comparing|the (?:idea|notion|claim|belief|view|lie|myth|trope|stereotype|"
    r"suggestion|narrative|rhetoric) that|(?:people|those|anyone|someone|men|"
    r"politicians) who (?:say|says|said|think|thinks|believe|believes|claim|claims|"
    r"write|writes|post|posts|call|calls)|whoever (?:says|said|wrote)|"
    r"stop (?:saying|calling|pretending|claiming)|(?:don't|do not|never) say|"
    r"(?:nobody|no one) (?:should|can|gets to) (?:say|think|claim)|how (?:dare|can) "
    r"(?:you|he|she|they|anyone|people|someone) (?:say|claim|call|write)|"
    r"(?:it's|it is|that's|that is|it was) (?:wrong|disgusting|vile|racist|bigoted|"
    r"hateful|not ok|not okay|unacceptable|gross|sick|evil) to (?:say|claim|call|"
    r"think|write|suggest)|i (?:can't|cannot|can not|couldn't) believe (?:he|she|"
    r"they|you|people|someone|anyone|this guy|this man|a \w+) (?:said|says|say|"
    r"wrote|would say|still say|actually said)|(?:i|we) (?:don't|do not|dont|"
    r"never|would never|wouldn't|will never|won't) (?:think|believe|say|agree|"
    r"claim|accept)(?: that)?|(?:nobody|no one|noone|no-one) (?:thinks|believes|"
    r"says|said|is saying)|it(?:'s| is) (?:not true|a lie|false|untrue|nonsense|"
    r"rubbish|a myth) that|(?:i'm|i am) not saying|reject(?:s|ed|ing)? the "
    r"(?:idea|claim|notion)|(?:phrases?|words|slogans?|comments?|posts?|tweets?|"
    r"messages?|statements?|remarks?|chants?|signs?|banners?|rhetoric|language) "
    r"(?:like|such as|saying|that said|reading)|chant(?:ed|ing|s) (?:of )?|"
    r"(?:if|what if|imagine if|suppose|would it be ok if) (?:i|you|someone|"
    r"somebody|anyone|people|he|she|they|we|a \w+) (?:had |would have |'d )?"
    r"(?:said|say|says|wrote|write|written|were to say|posted|called|tweeted)|"
    r"(?:a |the )?(?:common |popular |racist |old )?(?:misconception|stereotype|"
    r"myth|assumption|prejudice|falsehood|canard|conspiracy theory) that|"
    r"imagine (?:saying|writing|thinking)|(?:why|how) (?:do|does|did|would|can|"
    r"could|are) (?:people|you|they|some people|so many people|anyone|he|she|"
    r"folks) (?:\w+ )?(?:say|think|claim|believe|call|saying|thinking)|"
    r"(?:he|she|they|someone|somebody|the (?:man|woman|suspect|defendant|accused|"
    r"attacker|gunman|shooter|killer|caller|author|poster|sender|user|commenter|"
    rf"troll|\w+)|a (?:man|woman|user|commenter|troll|\w+)) (?:(?:allegedly|also|"
    rf"even|apparently|reportedly|actually|still|then|once|publicly) )?"
    rf"(?:{_SAID}|believes|believed|thinks|thought|argues|argued|insists|insisted|"
    rf"wants|wanted|claims)"
    r"(?: (?:\w+ ){0,2}?(?:saying|that))?)(?![\w'])"
)
# After a statement in its sentence: a judgement of it.
_JUDGEMENT = re.compile(
    r"[^.!?\n]{0,40}?(?<![\w'])(?:is |was |are |were |'s |sounds |seems |remains "
    r"|would be |it's |that's )?(?:just |so |totally |utterly |really |deeply |"
    r"absolutely |completely |pure |plain |blatant |outright |clearly )*"
    r"(?:disgusting|vile|racist|bigoted|hateful|wrong|unacceptable|dehumani[sz]ing|"
    r"not ok|not okay|appalling|shameful|sickening|abhorrent|despicable|"
    r"hate speech|bigotry|xenophobic|xenophobia|islamophobic|islamophobia|"
    r"antisemitic|anti-semitic|antisemitism|homophobic|homophobia|transphobic|"
    r"transphobia|misogynistic|misogyny|misogynist|sexist|sexism|ableist|ableism|"
    r"racism|offensive|outrageous|nonsense|false|untrue|a lie|lies|a myth|"
    r"a racist trope|a slur|ignorant|inexcusable|horrible|awful|gross|sick|evil|"
    r"inhumane|indefensible|a crime|illegal|fascist|nazi|propaganda|"
    r"not acceptable|never acceptable|never ok|never okay|beyond the pale|"
    r"incitement|a threat|threatening|said no (?:one|\w+ (?:person|human|one)))"
    r"(?![\w'])"
)
_ENDORSEMENT = re.compile(
    r"(?<![\w'])(?:(?:is|are|was|were|'s|'re) (?:right|correct|true|spot on|"
    r"not wrong|not racist|not hateful|just facts?|the truth|a fact)|(?:has|have) "
    r"a point|isn't wrong|aren't wrong|isn't racist|aren't racist|not (?:racist|"
    r"hateful|wrong) (?:to|if)|(?:i|we) agree)(?![\w'])"
)
# A report of a crime or a court case.
_CRIME = re.compile(
    r"(?<![\w'])(?:(?:was|were|been|got|is being|has been|have been) (?:arrested|"
    r"charged|convicted|jailed|sentenced|fined|banned|suspended|sacked|fired|"
    r"expelled|reported|investigated|prosecuted|cautioned)|pleaded guilty|"
    r"faces? (?:charges|trial|prosecution)|police (?:said|say|says|are)|"
    r"court (?:heard|was told)|prosecutors? (?:said|say|says)|according to "
    r"(?:police|the court|prosecutors|the charge)|reported (?:it |him |her |them )?"
    r"to (?:the )?police|(?:the )?(?:judge|jury|court) (?:said|ruled|heard|told|"
    r"found|was told)|at (?:the|his|her|their) trial|in court)(?![\w'])"
)
_REPORTING = re.compile(rf"(?<![\w']){_SAID}(?![\w'])")
_NEGATED = re.compile(
    rf"(?<![\w'])(?:(?:nobody|no one|noone|no-one) (?:should|deserves? to|wants? "
    rf"to|has the right to|gets to|is going to|will|would) (?:ever )?(?:be )?"
    rf"{_HARM}|(?:never|not|won't|wouldn't|don't|didn't|can't|shouldn't|mustn't|"
    rf"will not|would not|do not|must not|should not) (?:\w+ ){{0,2}}?(?:hurt|"
    rf"harm|kill|threaten|attack|shoot|stab|beat|dox|doxx|deport|ban)|(?:are|is|"
    rf"were|'re) (?:not|never) (?:\w+ ){{0,2}}?{_DEHUMAN}|(?:aren't|isn't|arent|"
    rf"isnt) (?:\w+ ){{0,2}}?{_DEHUMAN}|(?:don't|do not|does not|doesn't|dont) "
    rf"(?:\w+ )?deserve (?:to )?(?:die|be|this|that|hate|abuse|violence)|"
    rf"(?:should|must) (?:not|never) be (?:harmed|hurt|killed|attacked|deported|"
    rf"banned|excluded|targeted|threatened))(?![\w'])"
)
# Just before a match, in its clause: "don't", "never".
_NEGATION_BEFORE = re.compile(
    r"(?<![\w'])(?:don't|dont|do not|never|not|no need to|doesn't|didn't|won't|"
    r"wouldn't|shouldn't|can't|cannot)(?: \w+)?\s*$"
)
_SENTENCE_END = re.compile(r"[.!?\n]")
_QUOTE = re.compile(
    r"\"[^\"]{2,300}\"|(?<![\w])'(?=\w)(?:[^'\n]|'(?=\w))*?(?<=[\w.!?,])'(?!\w)"
)


@dataclass(frozen=True)
class Cue:
    """A sign that a statement is negated, quoted, reported or condemned."""

    # "quote", "condemnation", "report" or "negation".
    kind: str
    start: int
    end: int
    text: str


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    lo = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        lo = m.end()
    after = _SENTENCE_END.search(text, end)
    return lo, after.start() if after else len(text)


def _quotes(text: str) -> list[tuple[int, int]]:
    if '"' not in text and "'" not in text:
        return []
    return [m.span() for m in _QUOTE.finditer(text)]


def suppressing_cue(text: str, start: int, end: int) -> Cue | None:
    """The cue that makes text[start:end] a quote, a report or counter-speech.

    A statement is suppressed when it is quoted in a text that reports or judges it
    ("He wrote 'I will kill you' and was arrested"), when its sentence frames it
    ("Saying that ...", "I don't think ...", "If someone said ...", "He wrote ...")
    or judges it ("... is disgusting"), or when its sentence reports a crime ("...
    was arrested"); not when the sentence endorses it ("... and they are right").
    Text is read case-insensitively; start and end are offsets into it.
    """
    low = text.lower()
    if len(low) != len(text):
        low = text
    lo, hi = _sentence(low, start, end)
    if _ENDORSEMENT.search(low, lo, hi):
        return None
    for q0, q1 in _quotes(low):
        if q0 <= start and end <= q1:
            before, after = low[max(0, q0 - 150) : q0], low[q1 : q1 + 150]
            if any(
                p.search(before) or p.search(after)
                for p in (_REPORTING, _CRIME, _FRAME, _JUDGEMENT)
            ):
                return Cue("quote", q0, q1, text[q0:q1])
    frames = list(_FRAME.finditer(low, lo, start))
    if frames:
        frame = frames[-1]
        return Cue("condemnation", *frame.span(), text[frame.start() : frame.end()])
    if judged := _JUDGEMENT.match(low, end, hi):
        return Cue("condemnation", end, judged.end(), text[end : judged.end()])
    if crime := _CRIME.search(low, lo, hi):
        return Cue("report", *crime.span(), text[crime.start() : crime.end()])
    return None


# Counter-speech is looked for only around these words, or a group's name.
_HARM_WORD = re.compile(
    r"(?<![\w'])(?:kill\w*|murder\w*|hurt\w*|harm\w*|stab\w*|shoot\w*|shot|die|"
    r"dies|died|dead|rape\w*|lynch\w*|hang\w*|hanged|beat\w*|attack\w*|threat\w*|"
    r"deport\w*|exterminat\w*|ban|banned|vermin|rats?|cockroach\w*|parasites?|"
    r"animals?|savages?|subhuman\w*|filth|scum|plague|disease|cancer|virus|"
    r"lives?|address)(?![\w'])"
)
_CUE_WORDS = _set(
    "kill killed killing kills murder murdered hurt hurting harm harmed stab stabbed "
    "shoot shooting shot die dies died dead rape raped lynch lynched hang hanged "
    "beat beaten attack attacked threat threats threaten threatened deport deported "
    "deportation exterminate exterminated ban banned vermin rat rats cockroach "
    "cockroaches parasite parasites animal animals savage savages subhuman subhumans "
    "filth scum plague disease cancer virus live lives address"
)


def counter_speech_cues(text: str) -> list[Cue]:
    """Negated harm, and quotes, reports and condemnations of harm or of a group.

    Offsets are into the de-obfuscated copy (``normalize.rewrite``).
    """
    reading = _reading(text)
    if not (reading.words & _CUE_WORDS or reading.groups):
        return []
    low = reading.rw.lower
    cues = [Cue("negation", *m.span(), m.group()) for m in _NEGATED.finditer(low)]
    for m in _FRAME.finditer(low):
        # "saying that" alone is everyday speech: a frame counts before harm or a
        # group in its sentence.
        hi = _sentence(low, m.start(), m.end())[1]
        if _MARK in reading.masked[m.end() : hi] or _HARM_WORD.search(low, m.end(), hi):
            cues.append(Cue("condemnation", *m.span(), m.group()))
    for q0, q1 in _quotes(low):
        if _MARK not in reading.masked[q0:q1] and not _HARM_WORD.search(low, q0, q1):
            continue
        around = low[max(0, q0 - 150) : q0] + " " + low[q1 : q1 + 150]
        if _REPORTING.search(around) or _CRIME.search(around) or _FRAME.search(around):
            cues.append(Cue("quote", q0, q1, low[q0:q1]))
    return cues


# --- The patterns ------------------------------------------------------------


# The words the patterns turn on (as split at apostrophes: "i'll" is "i", "ll").
_SPEAKER = _set("i we imma ima im ill mma")
_INTENT = _set(
    "ll will shall going gonna about coming love got gotta want wanna intend plan "
    "wait promise must have need swear imma ima ill mma"
)
_HARM_HEADS = _set(
    "kill murder hurt harm stab shoot strangle choke slaughter butcher behead "
    "decapitate hang lynch rape punch assault maim torture poison drown execute gun "
    "shank knife kneecap beat bash batter throttle smother suffocate bludgeon pummel "
    "set run hunt track come end finish slap kick cut skin gut whack smack rough hit "
    "break destroy annihilate eliminate take knock smash mess fuck bust mow"
)
_BODY_VERBS = _set(
    "shoot break snap smash bash cut slit rip crack cave stomp kick whoop beat blow "
    "knock put make have get see burn torch firebomb set"
)
_URGERS = _set("someone somebody anyone anybody people we they y you one public")
_MODALS = _set(
    "should shud must need needs ought oughta deserve deserves have has gotta got"
)
_FATES = _set(
    "die dies died burn burns rot rots hang suffer suffers drown drowns starve dead "
    "disappear cease exist killed shot hanged hung gassed exterminated wiped "
    "eradicated eliminated burned burnt sterilised sterilized castrated put lined "
    "culled purged executed lynched stoned raped beaten slaughtered murdered "
    "tortured bombed nuked strung sent hurt harmed cancer aids hit set punched "
    "kicked slapped death bullet beating rope noose choke chokes stabbed run"
)
_SELF_HARM = _set("yourself urself kys die favour favor")
_PLACES = _set(
    "live lives living sleep sleeps work works stay stays park parks school hang "
    "hangs drinks shop shops"
)
_DOXX = _set(
    "address postcode zip zipcode location watching following stalking school car "
    "office house home flat apartment kids children family workplace parents "
    "newsroom"
)
_VEILED = _set(
    "dead pay coming back eye numbered days waiting live survive make end ditch "
    "coffin grave bullet bring bringing gun rifle knife machete shotgun pistol die"
)
_DEHUMAN_WORDS = _set(
    "rat rats vermin cockroach cockroaches roach roaches insect insects bug bugs "
    "lice louse flea fleas tick ticks maggot maggots worm worms termite termites "
    "pest pests locust locusts rodent rodents mosquito mosquitos mosquitoes "
    "parasite parasites parasitic leech leeches bloodsucker bloodsuckers plague "
    "disease diseased virus cancer cancerous tumour tumor tumours tumors "
    "infestation infection blight scourge germ germs bacteria contagion filth "
    "filthy scum garbage trash rubbish waste excrement shit sewage dirt slime "
    "savage savages animal animals beast beasts brute brutes monkey monkeys ape apes "
    "baboon baboons gorilla gorillas chimp chimps dog dogs pig pigs swine hog hogs "
    "snake snakes viper vipers mongrel mongrels creature creatures cattle livestock "
    "hyena hyenas jackal jackals subhuman subhumans sub untermenschen inhuman human "
    "humans people persons species race being beings"
)
_SWARMS = _set("infested overrun crawling swarming swarm swarms horde hordes")
_BREEDS = _set("breed multiply spread swarm infest reproduce crawl")
_HARM_CALL_HEADS = _set(
    "kill murder exterminate eradicate eliminate wipe gas shoot hang lynch burn nuke "
    "bomb slaughter execute behead butcher genocide cull purge cleanse sterilise "
    "sterilize castrate stone rape beat hunt string line get rid open fire drown "
    "sink run stab attack torch machine machinegun mow gun massacre annihilate "
    "destroy crush"
)
_EXCLUDE_HEADS = _set(
    "deport expel kick throw send ban round lock intern segregate keep close get"
)
_SENDERS = _set("deport send kick throw ship drive chase")
_GERUNDS = _set(
    "killing murdering exterminating shooting hanging gassing lynching burning "
    "bombing hunting beating stabbing slaughtering executing drowning raping "
    "stoning nuking"
)
_SOLUTIONS = _set(
    "bullet bullets rope noose gas chamber chambers oven ovens solution holocaust "
    "genocide extermination cleansing pogrom pogroms machete answer cure fix "
    "kristallnacht"
)
_PLACE_ATTACKS = _set(
    "burn torch firebomb fire bomb blow raze set smash vandalise vandalize sink "
    "storm shoot attack destroy"
)
_GROUP_PLACES = _set(
    "mosque mosques synagogue synagogues church churches temple temples gurdwara "
    "gurdwaras centre centres center centers camp camps hotel hotels shelter "
    "shelters boat boats hostel hostels bar bars club clubs parade parades march "
    "marches event events"
)
_EXCLUDED = _set(
    "deported banned removed kicked thrown sent locked rounded expelled segregated "
    "excluded interned put stripped denied go leave get allowed rights"
)
_BELONG = _set("belong welcome place right business allowed wanted good")
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class _Pattern:
    rule: str
    label: str
    # Words the text must hold, one of each set, for the pattern to be tried: most
    # comments hold none, and a set lookup is cheaper than a regular expression.
    needs: tuple[frozenset[str], ...]
    regex: re.Pattern[str]
    # A pronoun subject ("they") needs a group named just before it.
    needs_group_before: bool = False
    # A capitalised name as target: checked against the original's case.
    name_target: bool = False
    # Counts only beside harm or an address, or aimed at "you" ("I will find you").
    needs_harm_context: bool = False
    # Dropped after a negation in its clause ("don't kill yourself").
    negatable: bool = False
    # Reads the text with group names as they are, not marked.
    unmasked: bool = False
    # A group rule that needs no group named ("firebomb the mosque").
    group_free: bool = False


@cache
def _group() -> re.Pattern[str]:
    return re.compile(rf"(?<![\w']){GROUP}")


@cache
def _patterns() -> tuple[_Pattern, ...]:
    """Every pattern, compiled once on first use."""
    c = re.compile
    target = _TARGET
    threat = "threat"
    intent = "first-person intent to harm"
    wish = "says someone deserves or should suffer harm"
    lives = "says they know or will find where someone lives"
    dehuman = "compares a protected group to {kind}"
    violence = "calls for violence against a protected group"
    exclusion = "calls for excluding a protected group"
    should_suffer = "says a protected group should suffer violence"
    should_go = "says a protected group should be excluded"
    belong = "says a protected group does not belong"
    return (
        # Threats ------------------------------------------------------------
        _Pattern(
            threat,
            intent,
            (_SPEAKER, _INTENT, _HARM_HEADS),
            c(
                rf"{_OPENING}(?:[^.!?\n]{{0,60}}? and (?:then |also )?)?{_ADVERBS}"
                rf"(?:{_HARM}) {target}{_HARMLESS_TAIL}|"
                rf"{_OPENING}{_ADVERBS}(?:beat|kick|knock|smash|punch) the (?:shit|"
                rf"fuck|hell|crap|life|living daylights|piss) out of {target}|"
                rf"{_OPENING}{_ADVERBS}(?:beat|rough|smash|mess|fuck|bust|cut|"
                rf"shoot) {target} up(?![\w']){_HARMLESS_TAIL}|"
                rf"{_OPENING}{_ADVERBS}(?:hunt|track|gun|mow) {target} down(?![\w'])|"
                rf"{_OPENING}{_ADVERBS}beat {target} (?:to death|senseless|to a "
                rf"pulp|black and blue|bloody|half to death|with)(?![\w'])"
            ),
        ),
        _Pattern(
            threat,
            intent,
            (_SPEAKER, _INTENT, _BODY_VERBS),
            c(
                rf"{_OPENING}{_ADVERBS}(?:shoot up (?:{_POSSESSIVE}|the|this|that|"
                r"our) (?:\w+ )?(?:school|office|church|mosque|synagogue|temple|"
                r"newsroom|workplace|house|home|party|class|college|campus)|break "
                rf"every bone in {_POSSESSIVE} body|"
                r"(?:break|snap|smash|bash|cut|slit|rip|"
                rf"crack|cave|stomp|kick) (?:in )?{_POSSESSIVE} (?:\w+ )?{_BODY}|"
                rf"(?:kick|whoop|beat) {_POSSESSIVE} (?:ass|arse|butt)|"
                rf"(?:blow|shoot|bash|beat|kick|knock) {_POSSESSIVE} (?:brains?|head|"
                rf"face|teeth) (?:out|off|in)|put (?:a bullet|a knife|a bat|"
                rf"one|two|a round) (?:in|through|between) (?:{target}|"
                rf"{_POSSESSIVE} \w+)|put {target} in (?:the|a) (?:ground|grave|"
                rf"hospital|coffin|body bag|wheelchair|morgue|ditch)|make {target} "
                rf"(?:pay|suffer|bleed|scream|beg)|(?:have|get) {target} "
                rf"(?:killed|shot|hurt|beaten|stabbed|raped|murdered|done in|taken "
                rf"care of)|see {target} (?:dead|in hell|in the ground|in a "
                rf"(?:coffin|body bag))|(?:burn down|burn|torch|firebomb|set fire "
                rf"to|blow up) {_POSSESSIVE} (?:house|home|car|office|shop|church|"
                rf"mosque|synagogue|temple|building|newsroom|paper))"
            ),
        ),
        _Pattern(
            threat,
            intent,
            (frozenset({"i"}), frozenset({"find", "hunt"})),
            c(
                rf"(?<![\w'])i{_WILL} {_ADVERBS}(?:find|hunt) (?:{_SECOND}|him|her|"
                rf"them|(?:{_DET}) (?:[a-z'-]+ ){{0,2}}?{_PERSON})(?![\w']){_FIND_END}"
            ),
            needs_harm_context=True,
        ),
        _Pattern(
            threat,
            intent,
            (_SPEAKER, _INTENT, _HARM_HEADS),
            c(
                rf"{_OPENING}{_ADVERBS}(?:kill|murder|stab|strangle|choke|behead|"
                rf"lynch|rape|hang|hurt|harm|punch|beat up|assault|torture|"
                rf"execute|slaughter|butcher|knife|shank) (?P<name>[a-z][a-z'-]+)"
                rf"(?![\w'])"
            ),
            name_target=True,
        ),
        _Pattern(
            threat,
            "calls for someone to harm a person",
            (_URGERS, _MODALS, _HARM_HEADS),
            c(
                r"(?<![\w'])(?:someone|somebody|anyone|anybody|people|we|they|y'all|"
                r"you guys|you all|one of you|the public) (?:really |just )?(?:should|"
                r"needs to|need to|must|ought to|has to|have to|gotta|got to)(?: "
                rf"just| really| finally| go)? {_HARM} {target}{_HARMLESS_TAIL}"
            ),
        ),
        _Pattern(
            threat,
            wish,
            (_MODALS, _FATES),
            c(
                rf"{_WISH_SUBJECT} (?:{_DESERVE} (?:be |get )?(?:{_VIOLENT_FATE}|"
                r"hurt|harmed|beaten|get cancer|(?:be |get )?hit by a (?:car|bus|"
                r"truck|train)|set on fire|punched|kicked|slapped)(?![\w'])"
                rf"{_NOT_BY_WORDS}|(?:deserve|deserves) (?:to die|death|a bullet|a "
                r"beating|to suffer|a slow death|the rope|to hang|the noose|to be "
                r"(?:shot|hanged|killed|raped|beaten))(?![\w']))"
            ),
        ),
        _Pattern(
            threat,
            wish,
            (frozenset({"hope", "wish", "pray"}), _FATES),
            c(
                r"(?<![\w'])(?:i|we) (?:really |sincerely |truly |just |do )?(?:hope|"
                r"wish|pray) (?:that )?(?:(?:you|u|he|she|they)(?: and (?:your|his|her|"
                r"their) \w+)?|your (?:\w+ )?"
                r"(?:family|kids|children|wife|husband|mother|mum|mom)|(?:the|that|"
                rf"this) (?:[a-z'-]+ ){{0,2}}?{_PERSON}) (?:all )?(?:die|dies|rot|"
                r"rots|burn|burns|suffer|suffers|choke|chokes|drown|drowns|"
                r"(?:get|gets) (?:cancer|aids|killed|shot|raped|murdered|stabbed|"
                r"hurt|beaten|run over|hit by a \w+)|(?:is|are|was|were|will be|"
                r"would be|get|gets) (?:killed|shot|raped|murdered|stabbed|tortured|"
                r"hurt|beaten|run over|hanged|dead)|(?:will|would) die)(?![\w'])"
                rf"{_NOT_BY_WORDS}"
            ),
        ),
        _Pattern(
            threat,
            "tells someone to harm themselves",
            (_SELF_HARM,),
            c(
                r"(?:^|(?<=[.!?,;:\n\"(])\s*|(?<![\w'])(?:just|go|please|pls|plz|"
                r"and|should|shud|now|so|then|literally) )(?:go )?(?:kill|hang|"
                r"shoot|drown|off|end|neck|unalive) (?:yo)?urself(?![\w'])|"
                r"(?<![\w'])kys(?![\w'])|(?:^|(?<=[.!?,;:\n\"(])\s*|(?<![\w'])"
                r"(?:go|just|and|pls|please|can|should|hope you) )die in a (?:fire|"
                r"ditch|hole)|(?<![\w'])do (?:us|everyone|the world) a favou?r "
                r"and (?:die|kill (?:yo)?urself|disappear)|(?<![\w'])(?:go|just) "
                r"(?:drop dead|die)(?![\w'])"
            ),
            negatable=True,
        ),
        _Pattern(
            threat,
            lives,
            (frozenset({"where"}), _PLACES),
            c(
                rf"{_KNOW_WHERE}(?:you|u|your(?: \w+){{0,2}}?|(?:the|that|this|his|"
                rf"her|their) (?:[a-z'-]+ ){{0,2}}?{_PERSON}){_LIVES}"
            ),
            negatable=True,
        ),
        _Pattern(
            threat,
            lives,
            (frozenset({"where"}), _PLACES),
            c(rf"{_KNOW_WHERE}(?:he|she|they){_LIVES}"),
            negatable=True,
            needs_harm_context=True,
        ),
        _Pattern(
            threat,
            lives,
            (_DOXX,),
            c(
                r"(?<![\w'])(?:i|we)(?: already| now)?(?: know| have|'ve got| got|"
                r" found| will find|'ll find| am going to find|'m going to find|"
                r" gonna find) (?:your|ur|his|her|their|the (?:[a-z'-]+ ){0,2}?"
                r"\w+'s) (?:home |house |street |real |exact )?(?:address|postcode|"
                r"zip ?code|location)(?![\w'])|(?<![\w'])(?:i|we)(?:'ve| have)? "
                r"(?:been )?(?:watching|following|stalking) (?:you|u|him|her|them|"
                r"your (?:house|home|kids|children|family))(?![\w'])|"
                r"(?<![\w'])(?:i|we) (?:know|found out|found) where (?:your|ur|his|"
                r"her|their|the \w+'s) (?:\w+ )?(?:office|house|home|flat|apartment|"
                r"kids|children|family|school|workplace|car|parents|newsroom) "
                r"(?:is|are)(?![\w'])|"
                r"(?<![\w'])(?:i|we) (?:know|found out) what (?:school|car) "
                r"(?:you|your|he|his|she|her)(?![\w'])|(?<![\w'])your (?:home |"
                r"house |real )?address (?:is|has been) (?:\w+ ){0,3}?(?:online|"
                r"public|out there|posted|leaked|everywhere|all over)(?![\w'])"
            ),
            negatable=True,
        ),
        _Pattern(
            threat,
            "veiled threat",
            (_VEILED,),
            c(
                r"(?<![\w'])(?<!and )(?<!then )(?<!or )(?:you're|you are|youre|ur|"
                r"u r) (?:so |a |gonna "
                r"be |going to be )?dead(?: meat| man| woman)?(?=\s*(?:[.!,]|$)|"
                r" (?:when|if|once|soon|tonight|now)\b)|(?<![\w'])(?<!what )"
                r"(?<!much )(?:you|u)(?: and "
                r"your \w+)?(?: will|'ll| are going to|'re going to| are gonna|'re "
                r"gonna) (?:pay(?: for (?:this|that))?(?=\s*(?:[.!,]|$))|get what's "
                r"coming|die (?:soon|slowly|"
                r"painfully|tonight|screaming))|(?<![\w'])watch your back|"
                r"sleep with one eye open|your days are numbered|count your days|"
                r"(?<![\w'])(?:you|u) (?:won't|will not|aren't going to|are not going "
                r"to|ain't gonna) (?:live|survive|make it) (?:to see|through|past|"
                r"until|till|home|much longer|long)|(?<![\w'])(?:you|u)(?:'ll| will|"
                r" are going to|'re going to|'re gonna| gonna)? end up (?:in a "
                r"(?:ditch|coffin|body bag|grave|hospital|wheelchair|morgue)|dead)|"
                r"(?<![\w'])(?:someone|somebody) (?:will|'ll|is going to|is gonna) "
                r"(?:put a bullet in|kill|shoot|stab) (?:you|u|him|her)(?![\w'])|"
                r"(?<![\w'])(?:i'm|i am|we're|we are|i'll|i will|we'll|we will) "
                r"(?:bring|bringing|coming with|showing up with|turn up with) (?:my|a|"
                r"our) (?:gun|rifle|knife|machete|bat|shotgun|pistol|weapons?|guns)"
                r" (?:to|tomorrow|next|tonight)|"
                r"(?<![\w'])(?:i'm|i am|we're|we are) coming for (?:you|u|him|her|"
                r"them)(?![\w'])|(?<![\w'])(?:i|we)(?:'ll| will) be waiting "
                r"(?:for you )?(?:outside|at your|near your)"
            ),
            negatable=True,
        ),
        # Dehumanisation ---------------------------------------------------------
        _Pattern(
            "dehumanisation",
            dehuman,
            (_DEHUMAN_WORDS,),
            c(
                rf"{_subject()} (?:{_COPULA} {_DEHUMAN_FILL}{_ADJECTIVE}"
                rf"(?P<noun>{_DEHUMAN}){_HEAD_END}|{_NOT_HUMAN})"
            ),
        ),
        _Pattern(
            "dehumanisation",
            dehuman,
            (_DEHUMAN_WORDS,),
            c(
                rf"{_THEY} (?:{_COPULA} {_DEHUMAN_FILL}{_ADJECTIVE}(?P<noun>"
                rf"{_DEHUMAN}){_HEAD_END}|{_NOT_HUMAN})"
            ),
            needs_group_before=True,
        ),
        _Pattern(
            "dehumanisation",
            dehuman,
            (_DEHUMAN_WORDS,),
            c(
                rf"(?<![\w'])(?:{_alternation(_ATTRIBUTIVE)}) (?P<noun>"
                rf"{_ATTRIBUTIVE_NOUN})(?![\w'])"
            ),
            unmasked=True,
        ),
        _Pattern(
            "dehumanisation",
            dehuman,
            (_DEHUMAN_WORDS | _SWARMS,),
            c(
                rf"(?<![\w'])(?P<noun>{_ATTRIBUTIVE_NOUN}|animals|a plague|a "
                rf"disease|a cancer|an infestation|a swarm|swarms|hordes|a horde) "
                rf"(?:like|of|called) {_QUANT}(?P<group>{_MARKED})|(?<![\w'])(?P<noun2>"
                rf"infested|overrun|crawling|swarming) (?:with|by) {_QUANT}"
                rf"(?P<group2>{_MARKED})"
            ),
        ),
        _Pattern(
            "dehumanisation",
            dehuman,
            (_BREEDS,),
            c(rf"{_subject()} (?P<noun>{_BREED}) like {_LIKE_VERMIN}(?![\w'])"),
        ),
        # Calls for harm or exclusion against a group -------------------------
        _Pattern(
            "group_harm",
            violence,
            (_HARM_CALL_HEADS | _GERUNDS,),
            c(rf"{_CALL_START}{_HARM_CALL} {_QUANT}(?P<group>{_MARKED}){_NP_END}"),
        ),
        _Pattern(
            "group_harm",
            violence,
            (_HARM_CALL_HEADS | _GERUNDS,),
            c(
                rf"{_CALL_START_STRICT}(?:{_HARM_CALL}|line) (?:them|'em|em)(?: all)?"
                r"(?: up)?"
                r"(?![\w'])"
            ),
            needs_group_before=True,
        ),
        _Pattern(
            "group_harm",
            "calls for violence against a protected group's places",
            (_PLACE_ATTACKS, _GROUP_PLACES),
            c(
                rf"{_CALL_START}(?:burn(?: down)?|torch|firebomb|fire ?bomb|bomb|"
                r"blow up|raze|set fire to|set on fire|smash up|vandali[sz]e|sink|"
                r"storm|shoot up|attack|destroy|burn to the ground) (?:the |that |"
                r"this |those |these |their |every |all |all the |a |any |"
                r"another )?(?:[a-z]+ )?(?:mosques?|synagogues?|churche?s?|"
                r"temples?|gurdwaras?|(?:refugee|asylum|migrant|immigrant) "
                r"(?:centres?|centers?|camps?|hotels?|shelters?|boats?|homes?|"
                r"hostels?)|gay (?:bars?|clubs?)|pride (?:parades?|marches?|"
                r"events?))(?: down)?(?![\w'])"
            ),
            unmasked=True,
            group_free=True,
        ),
        _Pattern(
            "group_harm",
            should_suffer,
            (_FATES | _SOLUTIONS,),
            c(
                rf"{_subject()} (?:deserve|deserves) (?:to die|death|a bullet|bullets|"
                r"a beating|the rope|a rope|the noose|to hang|the gas chambers?|the "
                r"ovens?|a slow death|to be {_VIOLENCE_PASSIVE})(?![\w'])|"
                rf"{_subject('subject2')} (?:will|'ll|are going to|are gonna|shall) "
                r"(?:all )?be (?:exterminated|gassed|wiped out|eradicated|lynched|"
                r"hanged|slaughtered|purged|cleansed|burned|burnt|hunted down)"
                r"(?![\w'])"
            ),
        ),
        _Pattern(
            "group_harm",
            violence,
            (_SOLUTIONS,),
            c(
                r"(?<![\w'])(?:a bullet|bullets|the rope|a rope|the noose|a noose|"
                r"the gas chambers?|gas chambers|the ovens?|an? final solution|the "
                r"final solution|another holocaust|a (?:new |second )?holocaust|"
                r"genocide|extermination|ethnic cleansing|a pogrom|pogroms|a machete) "
                rf"(?:for|to) {_QUANT}(?P<group>{_MARKED})|(?<![\w'])(?:solution|"
                rf"answer|cure|fix|cure) (?:for|to) {_QUANT}(?P<group2>{_MARKED})"
                r"(?: problem| question| issue)? (?:is|are|=) (?:a |the |more )?"
                r"(?:bullets?|rope|noose|gas|genocide|extermination|holocaust|"
                r"ethnic cleansing|ovens|death|a final solution|final solution|"
                r"killing them(?: all)?|to kill them(?: all)?)(?![\w'])|"
                r"(?<![\w'])(?:need|want|time for|bring back|due) (?:another|a|a "
                r"new|a second) (?:holocaust|genocide|pogrom|final solution|"
                rf"kristallnacht)(?: for {_QUANT}(?P<group3>{_MARKED}))?"
            ),
        ),
        _Pattern(
            "group_harm",
            exclusion,
            (_EXCLUDE_HEADS,),
            c(
                rf"{_CALL_START}{_EXCLUDE_CALL} {_QUANT}(?!illegal|criminal|violent)"
                rf"(?P<group>{_MARKED}){_NP_END}"
            ),
        ),
        _Pattern(
            "group_harm",
            exclusion,
            (_SENDERS,),
            c(
                rf"{_CALL_START}(?:send|kick|throw|ship|drive|chase) {_QUANT}(?P<group>"
                rf"{_MARKED}) (?:all )?(?:back|out|home|away)(?![\w'])"
            ),
        ),
        _Pattern(
            "group_harm",
            exclusion,
            (_SENDERS,),
            c(
                rf"{_CALL_START}(?:deport|send|kick|throw|ship) (?:them|'em|em) "
                r"(?:all )?(?:back|out|home)(?![\w'])"
            ),
            needs_group_before=True,
        ),
        _Pattern(
            "group_harm",
            should_suffer,
            (_MODALS, _FATES),
            c(rf"{_subject()} {_DESERVE} {_VIOLENT_FATE}(?![\w'])"),
        ),
        _Pattern(
            "group_harm",
            should_suffer,
            (_MODALS, _FATES),
            c(rf"{_THEY} {_DESERVE} {_VIOLENT_FATE}(?![\w'])"),
            needs_group_before=True,
        ),
        _Pattern(
            "group_harm",
            should_go,
            (_MODALS, _EXCLUDED),
            c(rf"{_subject()} {_DESERVE} {_EXCLUDED_FATE}(?![\w'])"),
        ),
        _Pattern(
            "group_harm",
            should_go,
            (_MODALS, _EXCLUDED),
            c(rf"{_THEY} {_DESERVE} {_EXCLUDED_FATE}(?![\w'])"),
            needs_group_before=True,
        ),
        _Pattern(
            "group_harm",
            should_go,
            (frozenset({"allowed"}),),
            c(
                rf"{_subject()} (?:shouldn't|should not|mustn't|must not|can't|cannot|"
                r"shall not|should never|must never) be allowed (?:to (?:vote|work|"
                r"marry|adopt|teach|live|exist|be|come|enter|own|drive|hold|serve|"
                r"run|breed|have children|stay|speak|pray|worship)|in|here|near|"
                r"anywhere)(?![\w'])"
            ),
        ),
        _Pattern(
            "group_harm",
            belong,
            (_BELONG,),
            c(
                rf"{_subject()} (?:(?:all|just|simply|really) )?(?:don't|"
                r"do not|dont|doesn't|does not|shouldn't|should not|will never|"
                r"never) belong(?: (?:here|in (?:this|our|the|my|a) (?:\w+ )?\w+|"
                r"in [a-z]+|anywhere|among us|with us))?(?![\w'])|"
                rf"{_subject('subject2')} (?:are|is) not welcome(?: here| in "
                rf"\w+)?(?![\w'])|{_subject('subject3')} (?:have|has) no (?:place|"
                r"right to be|business being) (?:in|here)|(?<![\w'])no "
                rf"(?P<group4>{_MARKED}) (?:allowed|wanted|welcome)(?![\w'])|"
                rf"(?<![\w'])(?:the )?only good (?P<group5>{_MARKED}) (?:is|are) "
                r"(?:a )?dead"
            ),
        ),
        _Pattern(
            "group_harm",
            belong,
            (frozenset({"home", "back", "out"}),),
            c(
                rf"(?:^|(?<=[.!?;:,\n\"(])\s*){_QUANT}(?P<group>{_MARKED}) (?:go "
                r"home|go back(?: to (?:where (?:you|they) came from|(?:your|"
                r"their) (?:own )?(?:country|countries|homelands?|shitholes?)))?|"
                r"get out|out)(?=\s*(?:[.!?,;]|$))"
            ),
        ),
    )


_STOP_NAMES = frozenset(
    {"i", "the", "a", "an", "this", "that", "it", "my", "your", "his", "her",
     "their", "our", "time", "off", "up", "down", "out", "in", "on", "so", "and",
     "or", "but", "all", "some", "everything", "anything", "nothing", "myself",
     "yourself", "himself", "herself", "themselves", "ourselves", "one", "two",
     "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
     "christmas", "god", "jesus", "you", "u", "him", "them", "em", "me", "us"}
)  # fmt: skip
_HARM_CONTEXT = re.compile(
    rf"(?<![\w'])(?:{_HARM}|{_VIOLENCE_PASSIVE}|hurt|die|dead|lives?|address|pay|"
    r"suffer|bleed|regret|"
    r"where you live|where he lives|where she lives)(?![\w'])"
)


@dataclass(frozen=True)
class PatternMatch:
    """One pattern found: its rule, the reason, where, and how it was found."""

    rule: str
    reason: str
    # Offsets into the original text.
    span: Span
    # Only visible after de-obfuscation ("I will k i l l you").
    disguised: bool
    # Set when counter-speech suppressed the match.
    cue: Cue | None = None


_VERMIN_VERBS = frozenset(
    {"breed", "multiply", "spread", "swarm", "infest", "reproduce", "crawl",
     "infested", "overrun", "crawling", "swarming", "a swarm", "swarms", "hordes",
     "a horde"}
)  # fmt: skip


@lru_cache(maxsize=256)
def _kind(word: str) -> str:
    if word in _VERMIN_VERBS:
        return "vermin"
    for kind, nouns in DEHUMANISING.items():
        if any(re.fullmatch(noun, word) for noun in nouns):
            return kind
    return "subhumans"


def _label(pattern: _Pattern, m: re.Match[str]) -> str:
    if "{kind}" not in pattern.label:
        return pattern.label
    groups = m.groupdict()
    word = groups.get("noun") or groups.get("noun2") or ""
    return pattern.label.format(kind=_kind(word))


def _has_name(rw: Rewrite, original: str, m: re.Match[str]) -> bool:
    word = m.group("name")
    if word in _STOP_NAMES:
        return False
    start, end = rw.original_span(m.start("name"), m.end("name"))
    typed = original[start:end]
    # A capitalised word in a text that is not all capitals: a name.
    return typed[:1].isupper() and typed[1:].islower() and not original.isupper()


def _keep(reading: _Reading, text: str, pattern: _Pattern, m: re.Match[str]) -> bool:
    rw, masked = reading.rw, reading.masked
    start, end = m.span()
    if pattern.needs_group_before and _MARK not in masked[max(0, start - 120) : start]:
        return False
    if pattern.name_target and not _has_name(rw, text, m):
        return False
    if pattern.needs_harm_context:
        aimed_at_you = re.search(rf"{_SECOND}(?![\w'])", m.group()) is not None
        context = rw.lower[:start] + " " + rw.lower[end:]
        if not aimed_at_you and not _HARM_CONTEXT.search(context):
            return False
    return not (pattern.negatable and _NEGATION_BEFORE.search(rw.lower, 0, start))


def _raw_matches(text: str) -> Iterator[tuple[_Pattern, re.Match[str]]]:
    reading = _reading(text)
    for pattern in _patterns():
        if not all(reading.words & need for need in pattern.needs):
            continue
        if pattern.rule != "threat" and not (pattern.group_free or reading.groups):
            continue
        subject = reading.rw.lower if pattern.unmasked else reading.masked
        for m in pattern.regex.finditer(subject):
            if _keep(reading, text, pattern, m):
                yield pattern, m


_SUBJECTS = ("subject", "subject2", "subject3")


@lru_cache(maxsize=1024)
def analyse(text: str) -> tuple[PatternMatch, ...]:
    """Every pattern match in text; a suppressed one carries the cue that did it."""
    rw = _read(text)
    out: list[PatternMatch] = []
    for pattern, m in _raw_matches(text):
        start, end = m.span()
        subjects = [m.start(g) for g in _SUBJECTS if m.groupdict().get(g)]
        if subjects:
            start = subjects[0]
        # Lookbehinds at a clause start may leave spaces at the front.
        while start < end and rw.lower[start].isspace():
            start += 1
        if start == end:
            continue
        o0, o1 = rw.original_span(start, end)
        out.append(
            PatternMatch(
                pattern.rule,
                _label(pattern, m),
                Span(o0, o1, text[o0:o1]),
                rw.disguised(start, end),
                suppressing_cue(rw.lower, start, end),
            )
        )
    return tuple(_longest(out))


def _longest(matches: list[PatternMatch]) -> list[PatternMatch]:
    # Of overlapping matches of one rule, keep the longest.
    kept: list[PatternMatch] = []
    for m in sorted(matches, key=lambda m: (m.span.start - m.span.end, m.span.start)):
        if not any(
            k.rule == m.rule and k.span.start < m.span.end and m.span.start < k.span.end
            for k in kept
        ):
            kept.append(m)
    return sorted(kept, key=lambda m: m.span.start)


RULE_NAMES = ("threat", "dehumanisation", "group_harm")
_QUOTE_LIMIT = 60


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1] + "…"


def pattern_hit(text: str, rule: str) -> RuleHit | None:
    """The hold hit for one pattern rule in text; its reason names each pattern."""
    found = [m for m in analyse(text) if m.rule == rule and m.cue is None]
    if not found:
        return None
    reasons = dict.fromkeys(f'{m.reason} ("{_quote(m.span.text)}")' for m in found)
    reason = f"{rule.replace('_', ' ')}: " + "; ".join(reasons)
    return RuleHit(rule, Action.HOLD, reason, tuple(m.span for m in found))


def find_patterns(text: str) -> list[RuleHit]:
    """Hold hits for threats, dehumanisation and calls for harm against a group."""
    return [h for rule in RULE_NAMES if (h := pattern_hit(text, rule)) is not None]


@cache
def _adjectives() -> re.Pattern[str]:
    adjectives = [a for a in _all(GROUP_ADJECTIVES) if a not in _COMMON_ADJECTIVES]
    return re.compile(rf"(?<![\w'])(?:{_alternation(adjectives)})(?![\w'+])")


@cache
def _identity() -> re.Pattern[str]:
    # Group names, and the group adjectives that have no everyday sense alone.
    return re.compile(rf"(?<![\w']){GROUP}|{_adjectives().pattern}", re.IGNORECASE)


def identity_mentions(text: str) -> list[Span]:
    """Where text names a protected group ("Muslims", "gay", "black people")."""
    return [Span(*m.span(), m.group()) for m in _identity().finditer(text)]


def mask_identity(text: str, mask: str = "group") -> str:
    """Text with each protected-group term replaced by mask.

    For bag-of-words models that learned group names as toxic words.
    """
    return _identity().sub(mask, text)


_SECOND_PERSON = re.compile(
    r"(?<![\w'.])(?:you|your|yours|yourself|yourselves|u|ur|ya|y'all|youre|"
    r"you're|yall)(?![\w']|\.\w)"
)
FEATURES = (
    "threat",
    "dehumanisation",
    "group_harm",
    "counter_speech",
    "identity_mention",
    "second_person",
    "slur",
    "profanity",
    "disguised",
)


def pattern_features(text: str) -> dict[str, float]:
    """The patterns' signals as model inputs, each 0..1: the keys of FEATURES
    that the word list does not give (rules.rule_features adds those)."""
    reading = _reading(text)
    matches = analyse(text)
    fired = {m.rule for m in matches if m.cue is None}
    low = reading.rw.lower
    suppressed = any(m.cue is not None for m in matches)
    return {
        "threat": float("threat" in fired),
        "dehumanisation": float("dehumanisation" in fired),
        "group_harm": float("group_harm" in fired),
        "counter_speech": float(suppressed or bool(counter_speech_cues(text))),
        "identity_mention": float(
            reading.groups or _adjectives().search(low) is not None
        ),
        "second_person": float(_SECOND_PERSON.search(low) is not None),
        "disguised": float(any(m.disguised for m in matches if m.cue is None)),
    }
