"""The project's own functional training cases: threats, identity hate and contrasts.

Public toxicity data has almost no threats and little implicit identity hate, and it
teaches that any mention of a group or any swear word is toxic. These cases supply the
missing signal and, in about equal number, its non-hateful contrasts: the same groups
mentioned neutrally, the same words aimed at things, negation, counter-speech, news
reports, reclaimed terms, friendly profanity and hard political disagreement.

Every case is a template crossed with slot fillers (a group's surface forms, a target,
a place, ...) and then given the surface of a comment (casing, punctuation, a filler
word, a dropped apostrophe), the same way for hateful and non-hateful functions so that
style carries no label. Labels:

- toxicity: 1 for every hateful function, 0 for every contrast.
- identity_attack: 1 where a protected group is the target.
- threat: 1 for threats and calls for violence, against a person or a group.
- severe_toxicity: 1 for threats of death or rape, dehumanisation and slurs as attacks.
- insult: 1 for insults at a person, explicit derogation, dehumanisation and slurs;
  0 for implicit derogation, exclusion and plain threats (no insulting words).
- obscene: 1 exactly when the text holds a word of ``_OBSCENE`` (swearing and sexual
  words, as Jigsaw annotators used the label; slurs are not obscene by themselves).

No I/O: the cases are a pure function of the seed.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from .base import LABELS

__all__ = [
    "FUNCTIONS",
    "GROUPS",
    "Case",
    "Function",
    "Group",
    "Pool",
    "is_obscene",
    "summary",
    "training_cases",
]


@dataclass(frozen=True)
class Case:
    """One functional case: a comment, its function, the group it names, six labels."""

    text: str
    function: str
    group: str
    labels: dict[str, int]


@dataclass(frozen=True)
class Group:
    """A protected group and the words comments use for it."""

    key: str
    plural: tuple[str, ...]  # "Muslims": subject of "{G} are ..."
    adjective: tuple[str, ...]  # "Muslim": before a noun
    person: tuple[str, ...]  # "Muslim": one member, without an article
    iam: tuple[str, ...]  # "Muslim", "a Muslim": after "I'm"
    sites: tuple[str, ...] = ()  # "mosque": places the group gathers
    slurs: tuple[tuple[str, str], ...] = ()  # (singular, plural)


GROUPS: tuple[Group, ...] = (
    Group(
        "women",
        plural=("women", "females", "ladies", "young women"),
        adjective=("female", "women"),
        person=("woman", "girl", "female"),
        iam=("a woman", "female", "a girl", "a mum"),
    ),
    Group(
        "trans",
        plural=(
            "trans people",
            "transgender people",
            "trans women",
            "trans men",
            "trans folks",
        ),
        adjective=("trans", "transgender"),
        person=("trans woman", "trans man", "trans person", "transgender person"),
        iam=("trans", "a trans woman", "a trans man", "transgender"),
        slurs=(("tranny", "trannies"),),
    ),
    Group(
        "gay",
        plural=("gay people", "gays", "gay men", "lesbians", "homosexuals"),
        adjective=("gay", "lesbian"),
        person=("gay man", "lesbian", "gay guy", "gay person"),
        iam=("gay", "a lesbian", "a gay man"),
        sites=("gay bar",),
        slurs=(("faggot", "faggots"), ("fag", "fags"), ("dyke", "dykes")),
    ),
    Group(
        "lgbtq",
        plural=("LGBTQ people", "LGBT people", "queer people", "LGBTQ+ people"),
        adjective=("LGBTQ", "LGBT", "queer"),
        person=("LGBTQ person", "queer person", "bisexual person"),
        iam=("queer", "bisexual", "bi", "LGBTQ"),
        sites=("LGBT centre", "Pride event"),
    ),
    Group(
        "black",
        plural=(
            "Black people",
            "black people",
            "blacks",
            "Black folks",
            "African Americans",
            "Black Americans",
        ),
        adjective=("Black", "black"),
        person=("Black man", "Black woman", "black guy", "Black person"),
        iam=("Black", "a Black woman", "a Black man"),
        sites=("Black church",),
        slurs=(("nigger", "niggers"),),
    ),
    Group(
        "muslims",
        plural=("Muslims", "muslims", "Muslim people", "Muslim men"),
        adjective=("Muslim",),
        person=("Muslim", "Muslim man", "Muslim woman"),
        iam=("Muslim", "a Muslim"),
        sites=("mosque", "Islamic centre"),
        slurs=(("towelhead", "towelheads"),),
    ),
    Group(
        "jews",
        plural=("Jews", "Jewish people", "jews", "Jewish families"),
        adjective=("Jewish",),
        person=("Jew", "Jewish man", "Jewish woman"),
        iam=("Jewish", "a Jew"),
        sites=("synagogue", "Jewish school"),
        slurs=(("kike", "kikes"),),
    ),
    Group(
        "immigrants",
        plural=("immigrants", "migrants", "refugees", "asylum seekers", "Immigrants"),
        adjective=("immigrant", "refugee", "migrant"),
        person=("immigrant", "refugee", "migrant", "asylum seeker"),
        iam=("an immigrant", "a refugee", "a migrant"),
        sites=("refugee centre", "asylum hotel"),
    ),
    Group(
        "disabled",
        plural=(
            "disabled people",
            "people with disabilities",
            "wheelchair users",
            "autistic people",
        ),
        adjective=("disabled", "autistic"),
        person=("disabled person", "wheelchair user", "autistic person"),
        iam=("disabled", "autistic", "a wheelchair user"),
        slurs=(("retard", "retards"), ("spastic", "spastics")),
    ),
    Group(
        "asians",
        plural=("Asians", "Asian people", "asians", "Asian Americans", "East Asians"),
        adjective=("Asian",),
        person=("Asian", "Asian guy", "Asian woman"),
        iam=("Asian", "Asian American", "Korean", "Vietnamese"),
        slurs=(("gook", "gooks"),),
    ),
    Group(
        "latinos",
        plural=("Latinos", "Mexicans", "Hispanics", "mexicans", "Latinas"),
        adjective=("Latino", "Mexican", "Hispanic"),
        person=("Mexican", "Latino", "Latina", "Hispanic guy"),
        iam=("Latina", "Mexican", "Latino", "Hispanic"),
        slurs=(("spic", "spics"), ("wetback", "wetbacks"), ("beaner", "beaners")),
    ),
    Group(
        "native_americans",
        plural=(
            "Native Americans",
            "Indigenous people",
            "Natives",
            "First Nations people",
            "native americans",
        ),
        adjective=("Native", "Indigenous", "Native American"),
        person=("Native American", "Indigenous man", "Indigenous woman"),
        iam=("Native American", "Indigenous", "Cherokee", "Ojibwe"),
        slurs=(("redskin", "redskins"), ("injun", "injuns")),
    ),
    Group(
        "chinese",
        plural=("Chinese people", "chinese people", "Chinese folks", "Chinese"),
        adjective=("Chinese",),
        person=("Chinese guy", "Chinese woman", "Chinese person"),
        iam=("Chinese", "Chinese American", "Chinese-born"),
        slurs=(("chink", "chinks"),),
    ),
    Group(
        "middle_eastern",
        plural=("Arabs", "Middle Eastern people", "arabs", "Middle Easterners"),
        adjective=("Arab", "Middle Eastern"),
        person=("Arab", "Middle Eastern guy", "Arab woman"),
        iam=("Arab", "Middle Eastern", "Lebanese", "Syrian"),
        slurs=(("raghead", "ragheads"), ("camel jockey", "camel jockeys")),
    ),
    Group(
        "christians",
        plural=("Christians", "christians", "Catholics", "evangelicals"),
        adjective=("Christian", "Catholic"),
        person=("Christian", "Catholic"),
        iam=("Christian", "a Christian", "Catholic"),
        sites=("church",),
    ),
    Group(
        "hindus",
        plural=("Hindus", "hindus", "Hindu people", "Hindu families"),
        adjective=("Hindu",),
        person=("Hindu", "Hindu man", "Hindu woman"),
        iam=("Hindu", "a Hindu"),
        sites=("temple", "mandir"),
    ),
)
_GROUP = {g.key: g for g in GROUPS}
ALL_GROUPS = tuple(g.key for g in GROUPS)
# Groups that trolls tell to "go back": origin, not belief or body.
_ORIGIN = (
    "immigrants",
    "muslims",
    "black",
    "asians",
    "latinos",
    "chinese",
    "middle_eastern",
    "jews",
    "hindus",
)

# Shared slot fillers; a slot a template names is drawn afresh for each case.
_SLOTS: dict[str, tuple[str, ...]] = {
    "who": (
        "the reporter who wrote this",
        "that journalist",
        "this journalist",
        "the author",
        "the editor",
        "the mayor",
        "our MP",
        "Senator Hale",
        "Councillor Price",
        "that presenter",
        "the ref",
        "the guy in the video",
        "the woman in the video",
        "the judge",
        "Mark Jennings",
        "Sarah Collins",
        "that streamer",
        "the columnist",
        "the head teacher",
        "Dan from accounts",
    ),
    "name": (
        "Mark",
        "Sarah",
        "Senator Hale",
        "Councillor Price",
        "mate",
        "pal",
        "buddy",
        "Mr Jennings",
        "Ms Collins",
        "Dave",
        "Priya",
        "sweetheart",
    ),
    "kill": ("kill", "shoot", "stab", "strangle", "murder", "gut", "hang", "end"),
    "harm": (
        "break your jaw",
        "smash your face in",
        "put you in hospital",
        "break both your arms",
        "knock your teeth out",
        "make you bleed",
        "break your fingers",
        "give you a kicking",
    ),
    "lethal": ("a knife", "my gun", "a shotgun", "a machete", "a rifle"),
    "blunt": ("a bat", "a crowbar", "a hammer", "a few mates", "a tyre iron"),
    "insult_adj": (
        "clueless",
        "pathetic",
        "brainless",
        "gutless",
        "smug",
        "useless",
        "spineless",
        "ignorant",
        "deluded",
        "thick",
        "lying",
        "fucking",
    ),
    "insult_noun": (
        "idiot",
        "moron",
        "clown",
        "hack",
        "fraud",
        "loser",
        "muppet",
        "halfwit",
        "imbecile",
        "tosser",
        "prat",
        "numpty",
        "buffoon",
        "waste of space",
        "dickhead",
    ),
    "fam": (
        "my daughter",
        "my son",
        "the lads",
        "my mum",
        "our keeper",
        "the whole team",
        "my wife",
        "my little brother",
        "the kids",
    ),
    "time": (
        "tonight",
        "tomorrow",
        "this weekend",
        "after work",
        "soon",
        "when you least expect it",
        "on Monday",
        "next time I see you",
    ),
    "venue": (
        "your office",
        "the school gates",
        "the gym",
        "the station",
        "the council meeting",
        "the match on Saturday",
        "your kid's school",
        "the car park",
    ),
    "street": (
        "Elm Street",
        "Mill Lane",
        "Park Road",
        "Oak Avenue",
        "Station Road",
        "Maple Drive",
        "Church Street",
    ),
    "num": tuple(str(n) for n in range(2, 120, 3)),
    "place": (
        "this country",
        "our schools",
        "our neighbourhood",
        "the military",
        "the police",
        "government",
        "public office",
        "our universities",
        "the civil service",
        "our town",
        "the workplace",
        "sport",
        "politics",
        "the NHS",
        "this street",
    ),
    "activity": (
        "vote",
        "adopt children",
        "teach",
        "run for office",
        "own property",
        "serve in the army",
        "work with kids",
        "buy houses here",
        "join the police",
        "coach kids' football",
        "be doctors",
    ),
    "field": (
        "tech",
        "parliament",
        "senior management",
        "newsrooms",
        "the judiciary",
        "medical research",
        "boardrooms",
        "STEM",
        "local councils",
        "publishing",
    ),
    "pct": ("4", "7", "12", "15", "around 10", "nearly 20", "about 3"),
    "relative": (
        "son",
        "daughter",
        "sister",
        "brother",
        "mum",
        "dad",
        "wife",
        "husband",
        "best friend",
        "colleague",
        "neighbour",
    ),
    "city": (
        "Leeds",
        "south London",
        "Manchester",
        "Chicago",
        "downtown Phoenix",
        "Glasgow",
        "Birmingham",
        "Toronto",
        "Cardiff",
        "Bristol",
        "Houston",
        "the city centre",
    ),
    "n": ("two", "three", "four", "five", "12", "23", "40", "more than 100"),
    "issue": (
        "housing",
        "immigration",
        "the NHS",
        "energy",
        "public transport",
        "tax",
        "climate",
        "policing",
        "schools",
        "childcare",
        "the deficit",
        "pensions",
        "rail fares",
        "knife crime",
        "student loans",
        "the border",
    ),
    "party": (
        "the government",
        "Labour",
        "the Tories",
        "the Republicans",
        "the Democrats",
        "the coalition",
        "the council",
        "the opposition",
        "this administration",
        "the Lib Dems",
    ),
    "politician": (
        "the prime minister",
        "the president",
        "the chancellor",
        "the mayor",
        "Senator Hale",
        "the governor",
        "the home secretary",
        "our MP",
        "the health secretary",
        "the minister",
    ),
    "thing": (
        "Mondays",
        "traffic",
        "this weather",
        "rush hour",
        "cold coffee",
        "spam calls",
        "daylight saving time",
        "parking tickets",
        "VAR",
        "autoplay videos",
        "paywalls",
        "pop-up ads",
        "my commute",
        "tax returns",
        "this heat",
        "group projects",
        "the new app update",
        "slow wifi",
        "pineapple on pizza",
        "roadworks",
        "self-checkout machines",
    ),
    "pest": (
        "rats",
        "pigeons",
        "cockroaches",
        "mice",
        "mosquitoes",
        "wasps",
        "slugs",
        "bed bugs",
        "fleas",
        "termites",
        "seagulls",
        "ticks",
    ),
    "bad_idea": (
        "this tax",
        "the new parking scheme",
        "corruption",
        "red tape",
        "clickbait",
        "this bill",
        "the housing crisis",
        "gambling advertising",
        "fast fashion",
        "this proposal",
        "the new planning law",
        "doomscrolling",
        "this app",
    ),
    "food": (
        "pizza",
        "burger",
        "curry",
        "kebab",
        "plate of chips",
        "bacon sandwich",
        "whole cake",
        "pint",
        "Sunday roast",
    ),
    "team": ("City", "United", "the Rovers", "the visitors", "Arsenal", "the Lakers"),
    "annoying": (
        "people who talk in the cinema",
        "drivers who don't indicate",
        "people who reply-all",
        "people who don't put their trolley back",
        "people who post spoilers",
        "people who clap when the plane lands",
        "loud phone talkers on the train",
        "tailgaters",
        "people who recline their seat on a short flight",
    ),
    "good": (
        "brilliant",
        "amazing",
        "incredible",
        "beautiful",
        "class",
        "unreal",
        "gorgeous",
        "hilarious",
    ),
    "event": (
        "game",
        "match",
        "final",
        "concert",
        "gig",
        "show",
        "result",
        "finish",
        "performance",
    ),
}
# What hateful commenters write, for counter-speech and reports to quote.
_QUOTES = (
    "all {G} should die",
    "{G} are vermin",
    "{G} go home",
    "{G} are a disease",
    "{G} should be shot",
    "no {G} allowed",
    "{G} are animals",
    "kill all {G}",
    "{G} are all criminals",
    "{G} out",
    "{G} are subhuman",
    "{G} don't belong here",
    "{G} are a plague",
)
_GROUP_SLOTS = frozenset(
    {"G", "A", "one", "a_one", "iam", "site", "slur", "slurs", "a_slur", "quote"}
)


@dataclass(frozen=True)
class Pool:
    """Templates sharing labels and the groups they fit (none: no group slot)."""

    templates: tuple[str, ...]
    labels: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()
    named: tuple[str, ...] = ()  # fixed lines: the group each one names


def _named(*lines: tuple[str, str], labels: frozenset[str] = frozenset()) -> Pool:
    """A pool of fixed lines, each written about one group: (group, text)."""
    return Pool(tuple(t for _, t in lines), labels, named=tuple(g for g, _ in lines))


@dataclass(frozen=True)
class Function:
    """A functional category: its labels, its pools of templates and a case count."""

    name: str
    hateful: bool
    count: int
    labels: frozenset[str]
    pools: tuple[Pool, ...]
    formal: bool = False  # news copy: no chat-style fillers

    @property
    def templates(self) -> tuple[str, ...]:
        """Every template of every pool."""
        return tuple(t for p in self.pools for t in p.templates)


def _labels(*names: str) -> frozenset[str]:
    return frozenset(names)


_SEVERE = _labels("severe_toxicity")
_INSULT = _labels("insult")

THREAT_INDIVIDUAL = Function(
    "threat_individual",
    hateful=True,
    count=600,
    labels=_labels("toxicity", "threat"),
    pools=(
        Pool(  # death and rape
            (
                "I'm going to {kill} you {time}",
                "I'll {kill} you with my own hands, {name}",
                "Coming to {venue} with {lethal}. You know who you are",
                "I will {kill} {who} if they show their face at {venue}",
                "Someone give me the address of {who}, I've got {lethal} ready",
                "{name}, I'm going to {kill} you and nobody will find the body",
                "I will find you and I will kill you",
                "{who} should watch their back. I'll put a bullet in them myself",
                "someone's going to put {who} in the ground and I hope it's me",
                "Keep writing this crap and you'll end up dead",
                "you're dead. you hear me? DEAD",
                "I swear to god I'll slit your throat",
                "I'll burn your house down with you inside it",
                "Mark my words, {who} won't live to see next year",
                "I've got a rifle and your address. Think about that",
                "one more article like this and I'll kill {who} myself",
                "I'm going to fucking murder you",
                "I'd happily strangle {who} with my bare hands and sleep like a baby",
                "You and your whole family are going to die",
                "I'm going to rape you and nobody will stop me",
                "{who} needs to be raped to learn some respect",
                "Enjoy your last week alive, {name}",
                "Go ahead, publish it. It'll be the last thing you ever write",
                "I'll stab {who} the next time I see them, I mean it",
                "if i ever see you in person im putting you six feet under",
                "you better pray i never find you because ill end you",
                "Honestly someone should just shoot {who} and I'll buy the bullets",
                "I want {who} dead and I'll do it myself if I have to",
                "gonna run you over with my truck {time}, see how brave you are",
                "Count your days, {name}. I'm counting them for you",
            ),
            _SEVERE,
        ),
        Pool(  # harm, intimidation, doxxing
            (
                "I know where you live",
                "I know where {who} lives and I know what car they drive",
                "I know which school your kids go to",
                "You deserve to be hurt for what you wrote",
                "{who} deserves a good beating and I'm happy to give it",
                "I'm going to break your legs",
                "Wait till I catch you after {venue}, you'll be eating through a straw",
                "Keep talking and see what happens to your face",
                "Someone should teach {who} a lesson they won't forget, and I'm "
                "volunteering",
                "You live at {num} {street}, right? See you soon",
                "I'm going to smash your face in {time}",
                "Show up at {venue} again and you'll leave in an ambulance",
                "we found your home address. sleep well",
                "I will hurt you. That's a promise, not a threat",
                "I'd love to punch {who} in the mouth and I will if I see them",
                "Watch your back, {name}",
                "You're going to regret writing this. I'll make sure of it",
                "I'm going to kick the shit out of you",
                "Posting the home address of {who} so everyone can pay them a visit",
                "Nice car you've got. Shame if something happened to it",
                "Next time you're at {venue} I'll be waiting for you",
                "people like you deserve to get your teeth knocked in",
                "I hope someone breaks your nose and I hope it's me",
                "We know where your mum lives too, {name}",
                "I'm going to {harm} {time}",
                "Turn up at {venue} and I'll {harm}",
                "Coming to {venue} with {blunt}. Be ready",
                "Keep posting and I'll {harm}, {name}",
                "One more word, {name}, and I'll {harm}",
                "{who} should be scared. I know their routine and I'll {harm}",
                "See you at {venue}. Come alone",
            ),
        ),
        Pool(  # threats wrapped in insults
            (
                "I'll find you, you pathetic little worm, and you'll regret it",
                "shut your mouth or I'll shut it for you, you fucking idiot",
                "Keep it up, you smug prick, and you'll be limping home",
                "You stupid cow, wait till I get my hands on you",
                "I know where you live, you clueless hack",
                "you spineless coward, I'll break every bone in your hand",
                "Say that to my face, you little shit, and see what happens",
            ),
            _INSULT,
        ),
        Pool(
            (
                "I'm going to kill you, you stupid bitch",
                "you worthless piece of shit, I hope you die screaming and I'll help",
                "I'll murder you, you lying scumbag",
                "Dead man walking, you absolute moron",
            ),
            _SEVERE | _INSULT,
        ),
    ),
)

THREAT_GROUP = Function(
    "threat_group",
    hateful=True,
    count=550,
    labels=_labels("toxicity", "threat", "identity_attack"),
    pools=(
        Pool(
            (
                "All {G} should be shot",
                "We need to wipe out {G} before they wipe us out",
                "Round up every last one of these {G} and put them in front of a "
                "firing squad",
                "gas all {G}",
                "hang every {one} you see",
                "I'd happily run over a few {G} on my way to work",
                "Time to start killing {G}. Who's with me?",
                "The only good {one} is a dead {one}",
                "If I see {a_one} on my street I'm going to kill them",
                "{G} deserve a bullet, every single one of them",
                "Someone needs to shoot up a {site} and finish the job",
                "Line them up against a wall. All the {G}",
                "I wish someone would kill all {G}",
                "Death to {G}",
                "KILL ALL {G}",
                "{G} should be hunted down and exterminated",
                "Burn the {site} down with them inside",
                "Next {one} I meet gets a knife in the gut",
                "Every {one} in this country should be executed",
                "We should drown {G} like the old days",
                "mass graves for {G} is the only solution",
                "Would love to see {G} burn. All of them",
            ),
            _SEVERE,
            ALL_GROUPS,
        ),
        Pool(
            (
                "Someone should beat up every {one} they see",
                "Next {one} who walks into my shop is getting a beating",
                "{G} need to be taught a lesson with fists",
                "Let's go smash up the {site} tonight",
                "If {G} come to our neighbourhood they'll get what's coming to them",
                "Punch {a_one} today, it's good for you",
                "{G} deserve to be attacked in the street",
                "We should make {G} too scared to leave their houses",
                "Every {one} in this town should be afraid. We're coming",
                "I'll punch the next {one} who sits next to me on the bus",
                "Any {one} who shows their face here gets hurt. Simple",
                "Go out and hurt some {G} this weekend lads",
                "Somebody needs to set fire to that {site}",
                "Bricks through every {site} window. Tonight",
                "Time we started putting {G} in hospital",
                "Find a {one}, give them a kicking. Easy",
                "{G} better stay indoors after dark if they know what's good for them",
                "Fuck {G}, let's go bash some heads",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
    ),
)

EXCLUSION = Function(
    "exclusion_group",
    hateful=True,
    count=450,
    labels=_labels("toxicity", "identity_attack"),
    pools=(
        Pool(
            (
                "{G} should not be allowed to vote",
                "Ban {G} from {place}",
                "Keep {G} out of {place}",
                "No {G} allowed. Simple as that",
                "{G} have no place in {place}",
                "I don't want {G} living on my street",
                "{G} shouldn't be allowed to {activity}",
                "We need separate schools for {G}",
                "I'd never rent my flat to {a_one}",
                "Landlords should be allowed to turn away {G}",
                "Stop letting {G} into {place}",
                "It should be illegal for {G} to {activity}",
                "Don't hire {G}. Trust me on this",
                "If I owned a business I'd put a sign up: no {G}",
                "{G} should stay at home and leave {place} to the rest of us",
                "Get {G} out of {place}",
                "Separate buses for {G} would solve a lot of problems",
                "{G} should have their own neighbourhoods, away from the rest of us",
                "There should be a limit on how many {G} can live in one town",
                "Kick every {one} off the council",
                "Why are {G} even allowed in {place}?",
                "{a_one} running {place}? Absolutely not. Bar them all",
                "Private clubs are right to say no to {G}",
                "{G} out of {place} now",
                "Employers should be able to say 'no {G}' in the job ad",
                "Honestly {G} shouldn't get a say in anything",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
        Pool(
            (
                "Send all the {G} back where they came from",
                "Deport every {one}, no exceptions",
                "Close the borders to {G}. All of them",
                "{G} out!",
                "Go back to your own country, {G} aren't welcome",
                "Not one more {one} should get a visa",
                "Strip {G} of citizenship and put them on a plane",
            ),
            frozenset(),
            _ORIGIN,
        ),
        Pool(
            (
                "Women shouldn't be allowed to vote, there I said it",
                "Keep women out of the boardroom and out of the army",
                "Women belong at home with the kids, not in parliament",
            ),
            frozenset(),
            ("women",),
        ),
        Pool(
            (
                "Trans women should be banned from every women's space, full stop",
                "Trans people shouldn't be allowed near children",
            ),
            frozenset(),
            ("trans",),
        ),
    ),
)

DEHUMANISATION = Function(
    "dehumanisation_group",
    hateful=True,
    count=450,
    labels=_labels("toxicity", "severe_toxicity", "insult", "identity_attack"),
    pools=(
        Pool(
            (
                "{G} are vermin",
                "{G} are rats, they breed like rats and they spread like rats",
                "{G} are a disease and this country is sick with them",
                "{G} aren't people, they're animals",
                "Subhuman {G} everywhere you look these days",
                "{G} are a plague on this country",
                "{G} are filth. Pure filth",
                "honestly {G} are just parasites living off the rest of us",
                "{G} are cockroaches. You see one, there's a hundred more",
                "These {G} are like a cancer spreading through our towns",
                "Feral {G} roaming the streets again",
                "{G} are savages",
                "Every {one} I've met was more animal than human",
                "{G} are a virus",
                "{G} are less than human and it's time we said it",
                "{G}? Apes, the lot of them",
                "{G} swarm in like locusts",
                "{G} are garbage. Human trash",
                "{G} are an infestation",
                "{G} are fucking vermin",
                "{G} are nothing but dirty animals",
                "{a_one} is basically a cockroach that learned to talk",
                "{G} are a cancer",
                "{G} are a parasite on decent society",
                "{G} are filthy pigs",
                "{G} multiply like rabbits and think like sheep",
                "{G} are a pestilence",
                "Not sure {G} even count as human tbh",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
    ),
)

DEROGATION_EXPLICIT = Function(
    "derogation_explicit",
    hateful=True,
    count=450,
    labels=_labels("toxicity", "insult", "identity_attack"),
    pools=(
        Pool(
            (
                "{G} are all criminals",
                "I can't stand {G}",
                "{G} are disgusting",
                "I hate {G}",
                "{G} are so stupid it hurts",
                "{G} are lazy and always will be",
                "Every {one} I've ever met has been a liar",
                "{G} are the worst thing that ever happened to this country",
                "{G} make me sick",
                "{G} are pathetic",
                "Typical {one}, whining about everything",
                "{G} ruin everything they touch",
                "{G} are a bunch of thieves",
                "{G} are fucking useless",
                "honestly fuck {G}",
                "{G} are dirty and they smell",
                "{G} are born liars",
                "Nothing good has ever come from {G}",
                "{G} are too thick to run anything",
                "You can always spot {a_one}, they're the loud rude ones",
                "{G} are the most annoying people on earth",
                "{G} are a joke",
                "i despise {G} and i don't care who knows it",
                "{G} are violent by nature",
                "{G} are shit at everything",
                "{G} can go to hell",
                "Never met {a_one} who wasn't a complete idiot",
                "{G} are scum",
                "I've had it with {G}, every one of them is a moron",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
        _named(
            ("women", "Women are stupid and emotional, that's just facts"),
            ("women", "Females are all gold diggers"),
            ("trans", "Trans women are just men in dresses, deluded freaks"),
            ("gay", "Gay people are perverts and groomers"),
            ("black", "Black people are thugs, look at the stats"),
            ("muslims", "Muslims are all terrorists or terrorist sympathisers"),
            ("jews", "Jews are greedy, always have been"),
            ("immigrants", "Immigrants are scroungers who bring crime with them"),
            ("disabled", "Disabled people are useless drains on everyone else"),
            ("asians", "Asians are sneaky little copycats"),
            ("latinos", "Mexicans are all drug dealers and rapists"),
            ("native_americans", "Natives are a bunch of drunks living off handouts"),
            ("chinese", "Chinese people are dirty and eat anything that moves"),
            ("middle_eastern", "Arabs are all backward terrorists"),
            ("christians", "Christians are brainwashed morons"),
            ("hindus", "Hindus are filthy cow worshippers"),
        ),
    ),
)

DEROGATION_IMPLICIT = Function(
    "derogation_implicit",
    hateful=True,
    count=450,
    labels=_labels("toxicity", "identity_attack"),
    pools=(
        Pool(
            (
                "{G} should know their place",
                "You can't trust {G} with money",
                "I'm not racist but {G} just aren't as bright as the rest of us",
                "Funny how crime went up when the {G} moved in",
                "{G} are fine as long as they don't move in next door",
                "Let's just say I check my wallet when {a_one} sits next to me",
                "I'd never let {a_one} look after my kids",
                "{G} always play the victim card, don't they",
                "{G} have a certain... way about them. You know what I mean",
                "Of course it was {a_one}. It's always {a_one}",
                "There's a reason {G} never get promoted",
                "Hire {a_one} and watch your productivity drop",
                "{G} just don't share our values",
                "Notice how {G} always look after their own? Makes you think",
                "{a_one} in charge? Good luck with that",
                "{G} can't help it, it's in their blood",
                "I'm all for equality but {G} need to stop shoving it in our faces",
                "You know an area is going downhill when the {G} start arriving",
                "{G} raising kids? Those poor kids",
                "Just once I'd like to meet {a_one} who pays their own way",
                "{G} don't belong in positions of power, it's just nature",
                "Some of them are ok I guess, but {G} as a whole? No",
                "Ask yourself why {G} are always at the centre of trouble",
                "Don't be surprised when {G} do exactly what {G} always do",
                "{G} are the reason house prices here went down",
                "Give {G} an inch and they'll take a mile",
                "{a_one} with a clipboard, of course nothing works",
                "Remember when this town was normal, before the {G}?",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
        _named(
            ("women", "Women belong in the kitchen"),
            ("women", "She's pretty smart for a girl"),
            ("women", "A woman's opinion on football? Sure, go on then"),
            (
                "trans",
                "Trans women will always be men, no matter how hard they pretend",
            ),
            ("gay", "Being gay is a choice and it can be fixed"),
            ("jews", "Jews control the banks and the media, everyone knows it"),
            ("jews", "Funny how the Jews always end up with the money"),
            ("muslims", "Every Muslim is a terrorist waiting for the right moment"),
            ("black", "Black people just don't value education the way we do"),
            ("immigrants", "Immigrants come here for the benefits, not the work"),
            ("disabled", "Disabled people should be grateful for what they get"),
            ("asians", "Asians all look the same to me"),
            ("latinos", "Mexicans are only good for cheap labour"),
            (
                "native_americans",
                "Native Americans should be thankful we civilised them",
            ),
            ("chinese", "Chinese people brought the virus here, never forget"),
            ("middle_eastern", "Arabs only understand force"),
            (
                "christians",
                "Christians these days expect special treatment for believing "
                "fairy tales",
            ),
            ("hindus", "Hindus should keep their strange customs to themselves"),
        ),
    ),
)
_SLUR_GROUPS = tuple(g.key for g in GROUPS if g.slurs)

SLUR_ATTACK = Function(
    "slur_attack",
    hateful=True,
    count=300,
    labels=_labels("toxicity", "severe_toxicity", "insult", "identity_attack"),
    pools=(
        Pool(
            (
                "Shut up, {slur}",
                "nobody asked you, {slur}",
                "Look at this {slur} thinking anyone cares",
                "Get out of my country you filthy {slur}",
                "{slurs} like you are the whole problem",
                "typical {slur}",
                "Imagine taking advice from {a_slur}",
                "this {slur} again lmao",
                "The new neighbours are {slurs}. Great, just great",
                "Fuck off you {slur}",
                "I don't take orders from {slurs}",
                "Don't listen to him, he's just {a_slur}",
                "Bunch of {slurs} ruining the neighbourhood",
                "What a stupid {slur}",
                "the {slurs} are out in force today",
                "Nobody wants you here, {slur}",
                "Who let the {slurs} in?",
                "Another {slur} playing the victim",
                "Of course the new manager is {a_slur}",
                "Go cry about it, {slur}",
            ),
            frozenset(),
            _SLUR_GROUPS,
        ),
    ),
)

INSULT_INDIVIDUAL = Function(
    "insult_individual",
    hateful=True,
    count=500,
    labels=_labels("toxicity", "insult"),
    pools=(
        Pool(
            (
                "You're an idiot",
                "What a moron {who} is",
                "you absolute clown",
                "Shut the fuck up",
                "You're a pathetic excuse for a journalist",
                "{who} is a lying piece of shit",
                "Go fuck yourself",
                "nobody cares what you think, loser",
                "You're too stupid to be allowed near a keyboard",
                "Are you actually this dumb or do you practise?",
                "What a worthless hack {who} is",
                "{who} is a brainless twat",
                "You are a disgrace and a fraud",
                "Get a life, you sad little man",
                "Imagine being as thick as you",
                "You fucking idiot",
                "{who} is a complete dickhead",
                "you're a joke, mate. a total joke",
                "Did your mum drop you on your head as a baby?",
                "Spineless coward, that's all {who} is",
                "You're an embarrassment to your profession",
                "what a smug arsehole",
                "Go back to school, dimwit",
                "{who} has the brains of a goldfish",
                "Eat shit, {name}",
                "You're ugly inside and out",
                "Another garbage article from a garbage writer",
                "You disgusting pig",
                "{who} is a spineless weasel",
                "I've met smarter houseplants than you",
                "You are genuinely the dumbest person on this site",
                "Stupid bitch",
                "{who} is a clueless, arrogant prat",
                "Wow you're an ignorant little troll aren't you",
                "You {insult_adj} {insult_noun}",
                "{who} is a {insult_adj} {insult_noun}",
                "What a {insult_adj} {insult_noun} you are",
                "Shut up, you {insult_adj} {insult_noun}",
                "Only a {insult_adj} {insult_noun} would write this",
                "{name}, you are a {insult_adj} {insult_noun}",
                "Get off the internet, you {insult_adj} {insult_noun}",
                "Nobody asked you, {name}. {insult_adj} {insult_noun}",
                "Whoever hired {who} is an even bigger {insult_noun} than they are",
                "Is {who} a {insult_noun} or just pretending?",
            ),
        ),
    ),
)

GROUP_NEUTRAL = Function(
    "group_neutral",
    hateful=False,
    count=900,
    labels=frozenset(),
    pools=(
        Pool(
            (
                "I am {a_one}",
                "My {A} neighbours invited us over for dinner",
                "{G} have lived in this city for centuries",
                "{G} are underrepresented in {field}",
                "As {a_one}, I found this article really thoughtful",
                "My best mate growing up was {a_one}",
                "{A} voters could decide this election",
                "I'm {iam} and I've lived here my whole life",
                "There's a great documentary about the history of {G} in this town",
                "Our new manager is {a_one} and they're brilliant",
                "{G} deserve the same rights as everyone else",
                "{G} make up {pct} percent of the population here",
                "The panel included several {G}, which was good to see",
                "Do {G} face more discrimination in housing? The data says yes",
                "Shout out to the {A} nurses on ward 6, you were amazing",
                "{G} have been part of this country's story from the start",
                "Loads of {G} in my area. Great food, friendly people",
                "{G} are people like anyone else",
                "What challenges do {G} face when looking for work?",
                "Support for {G} has grown a lot in the last decade, the survey says",
                "{G} are welcome here",
                "The report looks at how {G} use public services",
                "Great to see more {A} authors on the prize shortlist",
                "{A}-owned businesses are opening all over the high street",
                "I'm {iam}, ask me anything",
                "Being {iam} is just one part of who I am",
                "We hired two {A} students for the summer and they were great",
                "Our {site} is open to visitors this Sunday, everyone welcome",
                "The {site} down the road does a free lunch on Thursdays",
                "I married {a_one} and we've been happy for 20 years",
                "How many {G} live in the UK? Genuinely curious",
                "Me and my {A} friends run the food bank on Saturdays",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
        Pool(
            (
                "My {relative} is {iam} and I couldn't be prouder",
                "The new exhibition tells the story of {A} families in the area",
                "I grew up in {a_one} household and I'm proud of it",
            ),
            frozenset(),
            tuple(k for k in ALL_GROUPS if k != "women"),
        ),
        _named(
            ("muslims", "Eid Mubarak to all our Muslim readers!"),
            (
                "muslims",
                "My Muslim neighbours invited us round for Eid, the food was amazing",
            ),
            ("jews", "Happy Hanukkah to everyone celebrating"),
            ("jews", "Jews have lived in this city for centuries"),
            ("christians", "Merry Christmas from all of us at the parish"),
            ("hindus", "Happy Diwali! The lights on the high street look gorgeous"),
            ("lgbtq", "Happy Pride to all my queer friends"),
            ("black", "Black women are underrepresented in tech"),
            ("gay", "I am a gay man and I've never felt more at home than here"),
            ("women", "Happy International Women's Day"),
            (
                "trans",
                "Trans Day of Visibility is a good reminder to check in on friends",
            ),
            (
                "chinese",
                "Lunar New Year celebrations in Chinatown were packed this year",
            ),
            (
                "native_americans",
                "Indigenous languages are being taught in schools again",
            ),
            ("immigrants", "Refugees from the war have settled well in our village"),
            ("disabled", "Disabled athletes deserve more TV coverage"),
            ("latinos", "Hispanic Heritage Month starts next week"),
            ("middle_eastern", "Arab cinema is having a real moment"),
            ("asians", "Asian American history should be taught in schools"),
        ),
    ),
)

NONPROTECTED_TARGET = Function(
    "nonprotected_target",
    hateful=False,
    count=450,
    labels=frozenset(),
    pools=(
        Pool(
            (
                "I hate {thing}",
                "I fucking hate {thing}",
                "I can't stand {thing}",
                "I'm sick of {thing}",
                "The {pest} in the subway are vermin",
                "{pest} are vermin and the council needs to deal with them",
                "Pigeons are basically rats with wings",
                "{bad_idea} is a cancer on this town",
                "{bad_idea} is a disease",
                "Kill the bill!",
                "Let's kill this proposal before it goes any further",
                "I'd murder a {food} right now",
                "This heat is killing me",
                "The comedian absolutely killed it last night",
                "We destroyed {team} 4-0",
                "Our defence got slaughtered today",
                "I could strangle my printer",
                "The new update murdered my battery",
                "The beach was filthy after the festival",
                "My kitchen is disgusting, I need to clean",
                "this app is garbage",
                "{pest} are disgusting",
                "All the {pest} in my garden should die",
                "Exterminate the {pest}, they're everywhere",
                "I'm going to kill this exam tomorrow",
                "{annoying} should be banned",
                "I can't stand {annoying}",
                "Honestly {annoying} are the worst",
                "Death to {thing}",
                "Fuck {thing}",
                "{thing} can go to hell",
                "I'll shoot you an email later",
                "Shoot me a message when you land",
                "we're going to crush {team} on Saturday",
                "That last level nearly killed me",
                "{bad_idea} is pure poison",
                "The smell of {pest} in the loft is disgusting",
                "my cat brought in three dead mice, little murderer",
                "The traffic on the ring road is murder",
                "Burn {bad_idea} to the ground, figuratively speaking",
                "{pest} should all be exterminated",
                "I want every one of those {pest} dead",
                "{thing} can die in a fire",
                "I swear {thing} will be the death of me",
                "{bad_idea} is killing this town",
                "{bad_idea} is a plague on this country",
                "We need to get rid of {bad_idea} once and for all",
                "Ban {thing}!",
                "No {pest} allowed in my kitchen",
                "Keep the {pest} out of the bins, they're vile",
                "I'm going to murder {team} at FIFA tonight",
                "{team} are going to get slaughtered on Saturday",
                "I hate {annoying} with a passion",
                "{annoying} deserve a special place in hell",
                "Honestly I could kill for a {food}",
                "{bad_idea} is disgusting and everyone knows it",
            ),
        ),
    ),
)

NEGATION = Function(
    "negation",
    hateful=False,
    count=500,
    labels=frozenset(),
    pools=(
        Pool(
            (
                "{G} are not criminals",
                "{G} aren't vermin, they're people",
                "I don't hate {G}. Why would I?",
                "{G} are not a threat to anyone",
                "It's not true that {G} are lazy",
                "Nobody deserves to be hurt for being {iam}",
                "I would never hurt {a_one}",
                "{G} don't deserve any of the abuse they get",
                "There's nothing wrong with being {iam}",
                "{G} shouldn't be banned from anything",
                "{G} aren't less intelligent than anyone else",
                "I can't think of a single reason to dislike {G}",
                "Not one {one} I know fits that stereotype",
                "{G} are no more likely to commit crimes than anyone else",
                "I don't think {G} should have to hide who they are",
                "Nobody is saying {G} should leave",
                "{G} are not a disease, and they're not a problem to be solved",
                "No, {G} are not 'taking over'",
                "{G} are not the reason your rent went up",
                "I have never once felt unsafe around {G}",
                "It's not {G} who are ruining this town",
                "{G} don't need to 'know their place'",
                "{G} don't need anyone's permission to exist",
                "Never say {G} are animals. They're human beings",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
        Pool(
            (
                "No one should threaten {who}",
                "Threatening {who} is never ok, whatever they wrote",
                "Nobody deserves death threats for writing an article",
                "I don't wish harm on {who}, I just think they're wrong",
                "I'm not going to hurt anyone, relax, I was talking about the exam",
                "No one should be doxxed for their opinions",
                "Don't threaten reporters. Ever",
                "I would never want {who} to get hurt",
            ),
        ),
    ),
)

COUNTER_SPEECH = Function(
    "counter_speech",
    hateful=False,
    count=500,
    labels=frozenset(),
    pools=(
        Pool(
            (
                "Calling {G} vermin is disgusting",
                "He tweeted '{quote}' and rightly lost his job",
                "Saying {G} are criminals is just plain bigotry",
                "If you think {G} are animals, the problem is you",
                "The comments on this article telling {G} to 'go back' are vile",
                "Reporting every comment here that says '{quote}'. Do better",
                "My {relative} was told '{quote}' on the bus yesterday. Sickening",
                "Anyone who says '{quote}' should be ashamed of themselves",
                "Writing '{quote}' under a news story isn't free speech, it's hate",
                "Stop calling {G} a plague. It's dehumanising and history shows "
                "where it ends",
                "The way people talk about {G} in this comment section is appalling",
                "We should all speak up when someone says {G} don't belong here",
                "Every time someone writes '{quote}' the mods should delete it",
                "I'm {iam} and I'm tired of reading '{quote}' every time this comes up",
                "The graffiti saying '{quote}' has been painted over, thank god",
                "If your reaction to this story is '{quote}', take a long look at "
                "yourself",
                "Someone sprayed '{quote}' on the {site}. This town is better than "
                "that",
                "Blaming {G} for the economy is lazy scapegoating",
                "Nobody gets to call {G} subhuman on my watch",
                "'{quote}'? Seriously? In 2024? Report and move on",
                "Telling {G} to know their place is just prejudice dressed up",
                "Jokes about {G} being dirty aren't jokes, they're hate",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
        Pool(
            (
                "Someone shouted '{slur}' at my {relative} in the supermarket and "
                "nobody did a thing",
                "A teacher called a pupil a '{slur}' and still has a job?",
                "Kids at school keep calling my {relative} '{slur}'. We've reported it",
                "The word '{slur}' has no place in this comment section",
                "He used the word '{slur}' on air and was suspended, as he should be",
            ),
            frozenset(),
            _SLUR_GROUPS,
        ),
        Pool(
            (
                "Threatening {who} because you don't like an article is cowardly",
                "Whoever sent {who} those death threats needs to be found and charged",
                "The replies telling {who} to 'watch their back' are a disgrace",
                "Posting someone's home address is not debate, it's intimidation",
                "Writing 'I know where you live' to a reporter should get you banned",
                "Death threats against {who} are never acceptable",
            ),
        ),
    ),
)

NEWS_REPORT = Function(
    "news_report",
    hateful=False,
    count=450,
    labels=frozenset(),
    formal=True,
    pools=(
        Pool(
            (
                "Police say the suspect threatened to kill his neighbour",
                "A man has been charged with making threats against {who}",
                "The journalist received death threats after the story was "
                "published, her editor said",
                "A man was jailed for 18 months for threatening to stab his ex-partner",
                "The suspect allegedly told staff he would 'come back with a gun'",
                "The senator said she had received rape threats since the vote",
                "Shooting in {city} leaves {n} dead, police say",
                "Jurors were shown messages in which the defendant threatened to "
                "'finish off' the victim",
                "The army said troops killed {n} militants in the raid",
                "The war has killed thousands of civilians, the UN said",
                "Officers found the man stabbed outside a bar in {city}",
                "The gunman shot {n} people before being arrested",
                "A teenager was arrested after threats were posted online against a "
                "school in {city}",
                "The court heard he had said he would 'burn the place down'",
                "Police are investigating after a councillor's home address was "
                "shared online",
                "The attacker was sentenced to life for the murder",
            ),
        ),
        Pool(
            (
                "{G} were the target of {n} hate crimes last month, police figures "
                "show",
                "A court heard the defendant shouted abuse at {a_one} outside the "
                "station",
                "Two men were arrested after a {site} was vandalised overnight",
                "Prosecutors say he posted messages calling for violence against {G}",
                "Officers are appealing for witnesses after {a_one} was attacked in "
                "{city}",
                "The attack on the {site} left {n} people injured",
                "Researchers found online threats against {G} rose sharply during "
                "the campaign",
                "The council has condemned leaflets calling {G} 'vermin'",
                "{A} groups say they feel less safe after the attack",
                "A man was convicted of sending threatening letters to a {site}",
                "The report found {G} were more likely to be victims of violent crime",
                "Police said the graffiti, which read '{quote}', is being treated as "
                "a hate crime",
                "The man admitted posting '{quote}' on social media",
                "Security at the {site} has been increased after threats",
            ),
            frozenset(),
            ALL_GROUPS,
        ),
    ),
)

RECLAIMED = Function(
    "reclaimed",
    hateful=False,
    count=60,
    labels=frozenset(),
    pools=(
        Pool(
            (
                "As a queer woman, this article meant a lot to me",
                "We're here, we're queer, get used to it!",
                "My queer friends and I are going to the parade",
                "Queer history month starts next week",
                "The queer choir at the community centre is amazing",
                "The queer community here is so welcoming",
                "Queer theory was my favourite module at uni",
                "Proud to be a big old queer",
                "Queer joy is the best kind of joy",
                "The queer film festival line-up is out and it looks great",
                "Went to my first queer book club last night, loved it",
                "My {relative} came out as queer and we threw a party",
                "The queer youth group meets on Thursdays at the library",
            ),
            frozenset(),
            ("lgbtq",),
        ),
        Pool(
            (
                "The Dyke March kicks off at noon on Saturday",
                "Proud dyke here, married to my wife for 20 years",
                "Dykes on Bikes led the parade again this year",
                "Me and my fellow dykes had the best time at Pride",
                "The dyke bar on the corner does the best quiz night",
            ),
            frozenset(),
            ("gay",),
        ),
        Pool(
            (
                "Crip culture is something I only found in my thirties",
                "Disability activists have reclaimed the word 'crip'",
                "I'm disabled and crip humour gets me through the bad days",
                "The crip arts festival is back this summer",
                "Crip time is real, ask any of us",
                "Our crip collective meets once a month, all welcome",
            ),
            frozenset(),
            ("disabled",),
        ),
    ),
)

PROFANITY_BENIGN = Function(
    "profanity_benign",
    hateful=False,
    count=350,
    labels=frozenset(),
    pools=(
        Pool(
            (
                "this is fucking {good}",
                "holy shit what a {event}",
                "fuck yeah, finally some good news",
                "Shit, I forgot my umbrella again",
                "That goal was fucking {good}",
                "Holy fuck, the view from the top was {good}",
                "Fucking finally, the trains are running on time",
                "shit happens, we'll bounce back next season",
                "I laughed my ass off at this",
                "Best fucking news I've read all week",
                "Oh shit, is it Friday already?",
                "This band is so fucking good live",
                "The kids are asleep, fuck yes",
                "We won! Holy shit we actually won!",
                "no fucking way, congratulations!!",
                "shit, this article made me cry",
                "What the fuck is going on with the weather",
                "my fucking phone died again",
                "Well done lads, fucking deserved that",
                "that {event} was the shit",
                "I'm so fucking proud of my daughter today",
                "Damn, this {food} recipe is good as shit",
                "Fuck me, that was a close {event}",
                "This cake is the bollocks",
                "{team} were fucking {good} tonight",
                "So fucking proud of {fam}",
                "holy shit, {fam} just passed their driving test",
                "that {food} was fucking {good}",
                "fucking hell, what a {event}",
                "ngl that {event} was {good} as fuck",
                "shit, I'm going to be late for the {event}",
                "Fuck it, I'm ordering a {food}",
                "{fam} absolutely smashed it, holy shit",
                "Best {event} of my fucking life",
                "Shit yeah, {team} won again!",
            ),
        ),
    ),
)

POLITICAL_DISAGREEMENT = Function(
    "political_disagreement",
    hateful=False,
    count=500,
    labels=frozenset(),
    pools=(
        Pool(
            (
                "This government's policy on {issue} is a disaster",
                "The minister is wrong about {issue}",
                "I completely disagree with this article",
                "{party} has no idea what it's doing on {issue}",
                "The council's plan for {issue} is a waste of money",
                "Worst budget I've seen in twenty years",
                "This proposal is terrible and I'll be voting against it",
                "The author ignores every bit of evidence that doesn't fit",
                "I think the senator's position on {issue} is dangerous and misguided",
                "This is the most incompetent administration in living memory",
                "Repeal this law now",
                "{politician} is wrong on {issue}, plain and simple",
                "Vote them out. All of them",
                "I've never been so angry at a decision by this council",
                "The editorial board has completely lost the plot on {issue}",
                "This tax rise will hurt families and the government knows it",
                "Absolute nonsense from {party} again",
                "Terrible idea. Scrap it",
                "I'm sick of both parties on {issue}",
                "The policy has failed by every measure",
                "This article is one-sided and ignores the other view on {issue}",
                "{politician}'s speech on {issue} was full of empty promises",
                "The immigration bill is badly drafted and will cost billions",
                "Immigration targets keep being missed and nobody is honest about why",
                "The Chinese government's crackdown in Hong Kong is indefensible",
                "The Saudi government's human rights record is appalling",
                "The church hierarchy's handling of the abuse cases was shameful",
                "Religious schools shouldn't get public money, in my view",
                "{party} broke every promise on {issue}",
                "Resign. Now. You've failed on {issue}",
                "Hate this policy with a passion. Bin it",
                "Scrap the whole plan for {issue} and start again",
                "{politician} should resign over {issue}",
                "Nobody believes {party} on {issue} any more",
                "This policy on {issue} will kill small businesses",
                "The reforms to {issue} are a disaster waiting to happen",
                "I'll never vote for {party} again after what they did on {issue}",
                "The figures on {issue} in this article are misleading",
                "I disagree with every word {politician} said about {issue}",
                "{politician} is dead wrong on {issue}",
                "{party} want to destroy {issue} and everyone can see it",
                "Another U-turn on {issue}. Embarrassing",
                "{party}'s record on {issue} is shameful",
                "Fix {issue} first, then talk to us about tax cuts",
            ),
        ),
    ),
)

FUNCTIONS: tuple[Function, ...] = (
    THREAT_INDIVIDUAL,
    THREAT_GROUP,
    EXCLUSION,
    DEHUMANISATION,
    DEROGATION_EXPLICIT,
    DEROGATION_IMPLICIT,
    SLUR_ATTACK,
    INSULT_INDIVIDUAL,
    GROUP_NEUTRAL,
    NONPROTECTED_TARGET,
    NEGATION,
    COUNTER_SPEECH,
    NEWS_REPORT,
    RECLAIMED,
    PROFANITY_BENIGN,
    POLITICAL_DISAGREEMENT,
)

# Swearing and sexual words, as Jigsaw annotators marked "obscene". Slurs are not
# here: they are identity attacks, and a quoted slur is not obscene by itself.
_OBSCENE = re.compile(
    r"\b(?:\w*fuck\w*|\w*shit\w*|shite|cunts?|bitch\w*|ass|asses|\w*assholes?"
    r"|arse|\w*arseholes?|dumbass|jackass|dick|dicks|dickheads?|cocks?|bastards?"
    r"|twats?|wankers?|tossers?|bollocks|bellends?|pricks?|pussy|whores?|sluts?"
    r"|tits|piss\w*|stfu|wtf|ffs)\b",
    re.IGNORECASE,
)

_PREFIXES = (
    "Honestly, ",
    "tbh ",
    "Look, ",
    "Ok so ",
    "Well, ",
    "So ",
    "Yeah ",
    "I mean, ",
    "Not gonna lie, ",
    "Reminder: ",
)
_SUFFIXES = (" lol", " tbh", " imo", " smh", " 🙄", " 😂", " 👏", " 🤷", " fr")
_ENDINGS = ("", "", "", ".", ".", ".", "!", "!!", "...", " !!!")
_ARTICLE = re.compile(r"\b([Aa]n?)\b(?= ([\w-]+))")
_YOO = ("use", "uni", "eu", "one", "ukr")
_INNER_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
# Surface variants of one filled sentence: more would let a few fixed lines dominate.
_MAX_VARIANTS = 3


def is_obscene(text: str) -> bool:
    """Whether text holds a swear word or a sexual word."""
    return _OBSCENE.search(text) is not None


def _article(noun: str) -> str:
    # "an LGBTQ person": initialisms are read letter by letter; "a useless": a "y".
    if noun[:2].isupper() and noun[0] in "AEFHILMNORSX":
        return f"an {noun}"
    vowel = noun[0].lower() in "aeiou" and not noun.lower().startswith(_YOO)
    return f"an {noun}" if vowel else f"a {noun}"


def _fix_articles(text: str) -> str:
    """Put "an" before a vowel sound: a slot can follow a template's own article."""

    def choose(match: re.Match[str]) -> str:
        fixed = _article(match.group(2)).split(" ", 1)[0]
        return fixed.capitalize() if match.group(1)[0] == "A" else fixed

    return _ARTICLE.sub(choose, text)


def _fields(template: str) -> frozenset[str]:
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name
    )


def _fits(template: str, group: Group | None) -> bool:
    needed = _fields(template)
    if group is None:
        return not needed & _GROUP_SLOTS
    if "site" in needed and not group.sites:
        return False
    return not ({"slur", "slurs", "a_slur"} & needed and not group.slurs)


def _group_slots(group: Group, rng: random.Random) -> dict[str, str]:
    one = rng.choice(group.person)
    slur, slurs = rng.choice(group.slurs) if group.slurs else ("", "")
    slots = {
        "G": rng.choice(group.plural),
        "A": rng.choice(group.adjective),
        "one": one,
        "a_one": _article(one),
        "iam": rng.choice(group.iam),
        "site": rng.choice(group.sites) if group.sites else "",
        "slur": slur,
        "slurs": slurs,
        "a_slur": _article(slur) if slur else "",
    }
    slots["quote"] = rng.choice(_QUOTES).format(G=rng.choice(group.plural))
    return slots


def _fill(template: str, group: Group | None, rng: random.Random) -> str:
    slots = _group_slots(group, rng) if group else {}
    for name in sorted(_fields(template) - slots.keys()):
        slots[name] = rng.choice(_SLOTS[name])
    text = _fix_articles(template.format(**slots))
    # A template may open with a slot: "{G} are ..." with "muslims" starts "Muslims".
    return text[0].upper() + text[1:] if template.startswith("{") else text


def _lower_first_word(text: str) -> str:
    word = text.split(" ", 1)[0]
    if word == "I" or word.startswith("I'") or (len(word) > 1 and word[:2].isupper()):
        return text
    return text[0].lower() + text[1:]


def _surface(text: str, rng: random.Random, formal: bool) -> str:
    """Give a template's text the look of a real comment; the meaning stays."""
    if formal:
        return text + "." if text[-1].isalnum() or text[-1] == "'" else text
    if rng.random() < 0.15:
        text = rng.choice(_PREFIXES) + _lower_first_word(text)
    if text[-1].isalnum():
        text += rng.choice(_ENDINGS)
    if rng.random() < 0.08:
        text += rng.choice(_SUFFIXES)
    roll = rng.random()
    if roll < 0.12:
        text = _INNER_APOSTROPHE.sub("", text)  # "dont", "im": phone typing
    elif roll < 0.17:
        text = _INNER_APOSTROPHE.sub("’", text)  # autocorrect quotes
    roll = rng.random()
    if roll < 0.10:
        text = text.lower()
    elif roll < 0.14:
        text = text.upper()
    elif roll < 0.18:
        text = text[0].lower() + text[1:]
    return text


def _cells(function: Function) -> list[tuple[Pool, str, Group | None]]:
    """Every (pool, template, group) a function can draw a case from."""
    cells: list[tuple[Pool, str, Group | None]] = []
    for pool in function.pools:
        for i, template in enumerate(pool.templates):
            if pool.named:
                cells.append((pool, template, _GROUP[pool.named[i]]))
                continue
            groups: list[Group | None] = [_GROUP[k] for k in pool.groups] or [None]
            cells.extend((pool, template, g) for g in groups if _fits(template, g))
    return cells


def _case(function: Function, pool: Pool, group: Group | None, text: str) -> Case:
    ones = function.labels | pool.labels
    labels = {label: int(label in ones) for label in LABELS}
    labels["obscene"] = int(is_obscene(text))
    return Case(text, function.name, group.key if group else "", labels)


def _generate(function: Function, rng: random.Random, seen: set[str]) -> list[Case]:
    """Up to function.count new cases, spread evenly over templates and groups."""
    cells = _cells(function)
    rng.shuffle(cells)
    out: list[Case] = []
    variants: dict[str, int] = {}
    stale_rounds = 0
    # Round-robin over the cells, so every template and group gets its share;
    # stop when a few rounds in a row find nothing new.
    while len(out) < function.count and stale_rounds < 5:
        added = 0
        for pool, template, group in cells:
            filled = _fill(template, group, rng)
            text = _surface(filled, rng, function.formal)
            key = " ".join(text.split()).casefold()
            if key in seen or variants.get(filled, 0) >= _MAX_VARIANTS:
                continue
            seen.add(key)
            variants[filled] = variants.get(filled, 0) + 1
            out.append(_case(function, pool, group, text))
            added += 1
            if len(out) == function.count:
                break
        stale_rounds = 0 if added else stale_rounds + 1
    return out


def training_cases(seed: int = 0) -> list[Case]:
    """Every functional case for one seed, deduplicated, in a fixed order."""
    rng = random.Random(seed)
    seen: set[str] = set()
    cases: list[Case] = []
    for function in FUNCTIONS:
        cases.extend(_generate(function, rng, seen))
    return cases


def summary(cases: Sequence[Case]) -> dict[str, dict[str, int]]:
    """Counts per function and positives per label, for a report."""
    functions: dict[str, int] = {}
    for case in cases:
        functions[case.function] = functions.get(case.function, 0) + 1
    labels = {label: sum(c.labels[label] for c in cases) for label in LABELS}
    return {"functions": functions, "labels": labels}
