"""Classify a question as a design, performance or correctness problem.

The type is what the user's problem *is*: performance when something is slow, resource-bound or does not
scale; correctness when results are wrong, duplicated, lost, inconsistent or insecure, or something fails;
design when the question is how to structure, model, choose or evolve something and nothing is broken yet.

Two kinds of evidence are added up:

- the problem_type of the best-matching notes (weighted by their score relative to the best one and by
  rank): a prior, since the same topic arrives as different kinds of problem ("read replicas" is a
  scaling question one day and a stale-read bug the next);
- cues in the text, in families of linguistic signals rather than topic words. Symptoms ("slow", "p99",
  "OOM" -> performance; "twice", "at the same time", "crashes", "off by an hour", an exception name, a
  leaked password -> correctness) and question forms ("how should we", "X or Y?", "is it worth",
  "what's a sane ...", "without downtime" -> design).

Two rules combine them. A symptom inside a hedged or hypothetical clause ("worried prices get stale",
"what if the worker dies") describes a risk, not something that happens, and does not count. And since
design means "no defect yet", design cues count for less when the message also reports a symptom: "the app
crashes after we removed a field, how should we version the API?" is a correctness problem.
With no matching notes and no cue at all ("hi") the answer is "unknown".
"""

from __future__ import annotations

import re

from bot.knowledge.port import ScoredNote

TYPES = ("design", "performance", "correctness")

# (pattern, problem type, weight). Patterns are matched case-insensitively against the whole message; each
# pattern counts once, so a family of synonyms adds its weight once however many of them appear.
CUES: tuple[tuple[str, str, float], ...] = (
    # --- performance: slowness, latency, time spent, resources, load and scale -------------------------
    (r"\bslow(?:er|ly|ness|s|ed|est)?\b|\bsluggish\b|\bcrawl(?:s|ing)?\b|\blag(?:gy|s|ging)?\b", "performance", 1.5),
    (r"\blaten(?:cy|cies)\b|\bp(?:50|90|95|99|999)\b|\bperf(?:ormance)?\b|\b(?:response|load|page load|render) times?\b", "performance", 1.2),
    # asking how long an operation takes or holds a lock
    (r"\bhow long (?:will|would|does|did|is) (?:\w+ ){1,3}(?:take|lock|block|run|hold)\w*", "performance", 0.8),
    # the query planner not doing what was hoped
    (r"\bplanner\b|\bquery plans?\b|\bignor\w* (?:\w+ ){0,3}index\b|\b(?:not|doesn'?t|isn'?t|won'?t) us(?:e|ing) (?:the |our |my |an |any )?(?:\w+ )?index\b",
     "performance", 1.0),
    # time spent: "takes 40s", "took 3h", timeouts
    (r"\btime[ -]?outs\b|\btime[sd][ -]?out\b|\b(?:e)?timedout\b|\btiming out\b|\bdeadline[ _]exceeded\b"
     r"|\b(?:takes?|took|taking|spends?|spent|runs? for|ran for) (?:about |like |around |over |~)?"
     r"(?:\d+(?:\.\d+)? ?(?:ms|s|secs?|seconds|mins?|minutes|h|hrs?|hours)?|forever|ages|seconds|minutes|hours)\b",
     "performance", 1.0),
    (r"\bcpu\b|\bmemory\b|\bram\b|\boom\b|\boom-?kill\w*|\bout ?of ?memory\w*|\bheap\b|\bbottleneck\b|\bhigh load\b|\bunder load\b"
     r"|\bspikes?\b|\bfull (?:table )?scan\b|\bseq(?:uential)? scan\b"
     r"|\b(?:memory|connection|goroutine|thread|file descriptor)s? leak\w*|\bleak(?:s|ing)? (?:memory|connections|goroutines|threads)\b",
     "performance", 0.8),
    (r"\btoo many (?:connections|clients|queries)\b|\bconnection (?:limits?|exhaustion)\b|\bn ?\+ ?1\b|\bspeed(?:s|ing)? up\b"
     r"|\bfaster\b|\boptimi[sz]\w*|\bscal(?:e|es|ing|ability)\b|\bhung\b|\bhangs?\b|\bhanging\b|\bfr(?:eez|oz)\w*|\bqueue(?:s|d)? up\b"
     r"|\brewrit\w* the (?:whole |entire )?table\b|\btable rewrite\b|\bfalls? over\b|\bfell over\b|\btakes? forever\b"
     r"|\b(?:hundreds|thousands|\d+) (?:of )?(?:tiny |small |extra |db |sql |database )?(?:queries|selects|round ?trips)\b"
     r"|\bqueries (?:per|for each|on every) \w+|\bone by one\b|\bone at a time\b|\b(?:heavy|expensive|costly)\b|\bhammer(?:s|ed|ing)?\b|\bpinn(?:ed|ing)\b|\bkeep(?:s|ing)? up\b|\bbacklog\w*|\b(?:backs?|backed|backing|pil(?:e|es|ed|ing)) up\b|\bfall(?:s|ing)? behind\b|\bqueue (?:\w+ )?grow\w*",
     "performance", 0.8),
    # --- correctness: duplicates, races, wrong or stale data, loss, failures, security --------------------
    # (duplicated code or logic is a design smell, not duplicated data)
    (r"(?<!code )(?<!logic )\bduplicat(?:e|es|ed|ion)\b(?! (?:[\w-]+ ){0,3}(?:code|logic|functions?|methods?)\b)(?! (?:\w+ )?(?:of )?(?:it|this|that|them)\b)|\bdupes?\b|\btwice\b|\bdouble[- ]?(?:charg|book|spend|process|sen[dt]|count|submit|ship)\w*", "correctness", 1.5),
    (r"\brace(?:s|y)?\b|\brace condition|\blost updates?\b|\bconcurrent(?:ly)?\b"
     r"|\b(?:another|other|concurrent) (?:transaction|request|process|worker|thread)s?\b", "correctness", 1.3),
    # simultaneity between a few actors is a race ("two requests at the same time", "both succeed"); among many it is
    # load ("500 requests hit postgres at the same moment", "5000 people buying at once") and counts for little
    (r"\b(?:two|2|both)\b[^.?!\n]{0,60}?(?:\bat the (?:exact )?same (?:time|moment|instant|second)\b|\bat once\b|\bsimultaneous(?:ly)?\b"
     r"|\bin parallel\b)|\bboth (?:succeed|pass|get|win|commit|read|see|go through|grab|pick)\w*", "correctness", 1.0),
    (r"\bat the (?:exact )?same (?:time|moment|instant|second)\b|\bsimultaneous(?:ly)?\b|\bat once\b|\bin parallel\b", "correctness", 0.3),
    (r"\binconsisten(?:t|cy|cies)\b|\bout of sync\b|\bdrift\w*|\boverwrit\w*|\boversell\w*|\boverbook\w*"
     r"|\b(?:wrong|incorrect|bogus)\b(?! (?:index|plan|join order))|\boff by (?:a|an|one|\d+)\b|\bshifted\b|\bmismatch\w*"
     r"|\b(?:still )?(?:see|sees|seeing|shows?|showing|returns?|gets?) (?:the |their |his |her |my |our |an? )?(?:old|outdated|previous|stale)\b"
     r"|\bstill (?:show|shows|showing|shown|appears?|appearing|visible|returned|there)\b|\b(?:don'?t|doesn'?t|didn'?t|can'?t|cannot|not) (?:see|find|show)\b|\bnever (?:show|arrive|appear|get)\w*", "correctness", 1.2),
    (r"\bnegative (?:stock|balance|inventory)\b|\bmissing (?:rows|data|events|messages|updates)\b|\bout of order\b|\bphantom\b"
     r"|\bstale\b|\bcorrupt\w*|\boverflow\w*|\bout of range\b|\bwrap(?:s|ped)? around\b|\btruncat\w*"
     r"|\b(?:drop|lose|lost|losing|vanish)\w* (?:[\w-]+ )?(?:requests?|messages?|events?|data|jobs?|tasks?|writes?|updates?)\b"
     r"|\b(?:tasks?|jobs?|messages?|events?) (?:just )?(?:vanish|disappear|get lost)\w*|\b(?:are|is|were|was) (?:just |simply )?gone\b|\bwent missing\b"
     r"|\b(?:requests?|connections?|jobs?|messages?|uploads?) (?:get |got |are |were )?(?:cut off|dropped|killed|aborted)\b",
     "correctness", 1.1),
    (r"\bdeadlock\w*|\bserializ(?:ation|able) (?:failure|error)\b|\bcould not serialize\b|\bunique (?:constraint|violation)\b|\bidempoten\w*"
     r"|\bunsafe\b|\bnot (?:\w+ )?safe\b|\bis (?:it|this|that|\w+(?: \w+){0,4}) safe\b", "correctness", 0.8),
    # failures: something crashes, throws, errors out, or answers 4xx/5xx (429 and 503/504 are load, not bugs)
    (r"\bcrash\w*|\bthrows?\b|\bthrew\b|\bthrown\b|\bfail(?:s|ed|ing)?\b|\bbr(?:eaks|oke|oken)\b(?! (?:\w+ ){0,2}tests?\b)|\berror(?:s|ed)? out\b"
     r"|\bblows? up with\b|\bdoes ?n[o']t exist\b|\bnot found\b|\bviolates\b|\bbugs?\b|\bbuggy\b"
     r"|\b(?!429|50[34])[45]\d\d(?:s|'s)\b|\b(?:returns?|returned|getting|gets?|got|throws?) (?:a |an |random |some )?(?!429|50[34])[45](?:\d\d|xx)\b",
     "correctness", 1.0),
    # a pasted exception or error line (resource errors such as OutOfMemoryError or timeouts are left to performance)
    (r"^\s*(?:ERROR|FATAL|PANIC)\b|\b(?![\w.]*(?:Memory|Timeout|TimedOut|Pool)[\w.]*(?:Error|Exception)\b)[A-Z][\w.]*(?:Error|Exception)\b",
     "correctness", 0.6),
    # intermittent misbehaviour
    (r"\bsometimes\b|\brandomly\b|\boccasionally\b|\bintermittent\w*|\bflak(?:y|iness)\b|\b(?:1|one) (?:in|out of) \d+\b"
     r"|\bevery (?:now and then|once in a while)\b|\bonce in a while\b", "correctness", 0.6),
    # security: data that leaks or is exposed, access that should be refused, credentials that cannot be revoked
    (r"\bdata leak\w*|\bleak(?:s|ed|ing)? (?:\w+ )?(?:data|records|pii|secrets?|tokens?|passwords?|emails?|stack ?traces?)\b|\bidor\b"
     r"|\bcross[- ]tenant\b|\b(?:see|saw|read|access|view)\w* (?:other|another|\w+ \w+'s) (?:\w+'?s? )?(?:data|records|invoices|orders|accounts?)\b"
     r"|\b(?:other|another|wrong) (?:tenant|customer|user|account)'?s?'? (?:data|invoices|orders|records)\b|\bvulnerab\w*|\bbypass\w*"
     r"|\bpen ?test\w*|\bpenetration test\w*|\bsecurity (?:issue|hole|bug|finding|incident|audit)\w*|\bexpos(?:ed|es|ing)\b"
     r"|\b(?:passwords?|secrets?|tokens?|api keys?|credentials|authorization headers?|pii)\b(?:\W+\w+){0,6}?\W+(?:in|into) (?:the |our )?(?:\w+ )?logs?\b"
     r"|\bcan'?t (?:be )?revoked?\b|\bcannot (?:be )?revoked?\b|\bstay(?:s|ed)? logged in\b|\bstill (?:work|works|valid|accepted)\b (?:after|even)|\bunauthori[sz]ed (?:access|users?)\b|\bprivilege escalation\b|\bmass[- ]assignment\b"
     r"|\b(?:regular|normal|any|non-?admin|unauthenticated|anonymous|logged[- ]out) users? can (?:\w+ )?(?:access|hit|see|call|read|view|delete|edit|modify|download|change)\b"
     r"|\b(?:someone|somebody|anyone) else'?s\b|\b(?:become|make themselves|set (?:their|his|her) (?:own )?\w+ to|escalat\w* to) (?:an? )?admin\b",
     "correctness", 1.2),
    # --- design: how to structure, model, choose or evolve something --------------------------------------
    (r"\bhow (?:should|do|would|can) (?:i|we|you|one) (?:\w+ )?(?:design|structure|model|organi[sz]e|split|lay ?out|architect|version"
     r"|name|approach|represent|evolve|build|implement|handle|test|generate)\b|\bhow to (?:design|structure|model|organi[sz]e|lay ?out|split|version|evolve|approach|set up)\b",
     "design", 1.5),
    (r"\b(?:best|recommended|right|cleanest|idiomatic) (?:way|practice|approach|pattern)s?\b|\bpros and cons\b|\btrade-?offs?\b"
     r"|\bwhich is better\b|\bbetter than\b|\bwhat(?:'s| is| are|s) (?:a |an |the )?(?:sane|good|sensible|reasonable|standard|typical"
     r"|common|recommended|right|proper|usual|idiomatic|preferred)\b|\bwhat does a good\b|\bhow do (?:people|ppl|you guys|folks|teams|others)\b"
     r"|\bis (?:it|this|that) (?:\w+ )?(?:ok|okay|fine|bad|worth|overkill|a good idea|an? (?:anti-?pattern|smell))\b|\boverkill\b"
     r"|\bsmells?\b|\banti-?pattern\b", "design", 1.2),
    (r"(?<!how )(?<!where )(?<!what )\bshould (?:i|we)\b|\bshould (?:this|it|that|these) (?:\w+ )?be\b|\b(?:vs\.?|versus)\b|\bor should\b"
     r"|\bdesign(?:ing)?\b|\barchitect\w*|\bwhat should (?:i|we) (?!do\b)\w+|\bwhere (?:do|should|would|does) (?:\w+ ){0,3}(?:store|put|keep|start|live|go|belong)\b"
     r"|\bset(?:ting)? (?:\w+ )?up\b|\bworth it\b|\bworth the\b|\b(?:safe|safest|proper|clean) way\b|\bsafely\b"
     r"|\bwithout (?:any |causing )?downtime\b|\bzero[- ]downtime\b|\bno downtime\b|\b(?:choos\w*|decid\w*|pick\w*) between\b"
     r"|\bwhich (?:one|option|approach|pattern|library|framework|tool|database|db|broker|queue)\b", "design", 1.0),
    # planning something new
    (r"\b(?:thinking (?:about|of)|considering|planning (?:to|on)|plan to|we(?:'d| would) like to|about to|want to (?:add|build|introduce|move|adopt|expose|split|migrate|switch))\b"
     r"|\bnew (?:project|service|app)\b|\bgreenfield\b|\bfrom scratch\b", "design", 0.6),
    # an either/or question: "cursor or page numbers?", "normalize or is that intended?"
    (r"\b\w+ or (?:a |an |the |just |keep )?[\w/-]+(?: [\w/-]+){0,2}\s*\?", "design", 0.8),
    (r"\bstructure\b|\bschema for\b|\bmodel(?:l?ing)? (?:a|the|our|this)\b|\bmicroservices?\b|\bmonolith\b|\bboundar(?:y|ies)\b"
     r"|\bconventions?\b|\bpolic(?:y|ies)\b|\bstrateg(?:y|ies)\b", "design", 0.7),
)
# Context rather than symptoms: rates, sizes and durations describe the scale of a system ("we have 20k rps",
# "1h ttl", "95% reads") and lean towards performance, but they do not report that anything is wrong, so they
# do not discount design cues. "500s"/"404s" are HTTP status codes, not seconds.
CONTEXT: tuple[tuple[str, str, float], ...] = (
    (r"\b\d+(?:\.\d+)? ?(?:ms|sec|secs|seconds|min|mins|minutes|h|hrs?|hours)\b|\b(?![1-5]\d\ds\b)\d+(?:\.\d+)?s\b", "performance", 0.4),
    # a timeout as a setting ("what timeout should we set", "lock timeout"); timeouts that happen are symptoms
    (r"\btime[ -]?out\b", "performance", 0.4),
    (r"\bthroughput\b|\b[rq]ps\b|\b\d+ ?(?:gb|mb|tb)\b|\b\d+ ?%|\b\d+k?\s*(?:[\w-]+ )?(?:events|messages|msgs|requests|reqs|rows|jobs|writes|inserts|ops)"
     r"\s*(?:/|per |a )\s*(?:s|sec|second|min|minute|h|hour)\b", "performance", 0.8),
)
_COMPILED = tuple((re.compile(p, re.I | re.M), t, w) for p, t, w in CUES)
_CONTEXT = tuple((re.compile(p, re.I | re.M), t, w) for p, t, w in CONTEXT)

# A clause that describes a risk or a hypothetical rather than something that happens: symptom cues inside it
# do not count ("want to cache it but worried prices get stale", "what if the worker dies halfway?").
_HEDGE = re.compile(
    r"\b(?:worried|worry|afraid|concerned|scared|nervous|in case|what if|what happens (?:if|when)|to (?:avoid|prevent)|so (?:that )?(?:we|it) (?:don'?t|never|can'?t))\b"
    r"[^.?!;\n]*",
    re.I,
)
SYMPTOMS = ("performance", "correctness")
SYMPTOM_THRESHOLD = 0.8  # symptom cue weight from which a message counts as reporting a symptom
DESIGN_UNDER_SYMPTOM = 0.3  # design cues count for less when the message also reports a symptom

NOTE_WEIGHT = 1.0  # total weight the retrieved notes contribute (spread over the top results)
RANK_DECAY = (1.0, 0.6, 0.4)


def _evidence(text: str) -> tuple[dict[str, float], bool]:
    """(cue score per type, whether the message reports a symptom)."""
    scores = dict.fromkeys(TYPES, 0.0)
    text = text or ""
    unhedged = _HEDGE.sub(" ", text)
    for pattern, problem_type, weight in _COMPILED:
        if pattern.search(unhedged if problem_type in SYMPTOMS else text):
            scores[problem_type] += weight
    symptom = sum(scores[t] for t in SYMPTOMS) >= SYMPTOM_THRESHOLD
    for pattern, problem_type, weight in _CONTEXT:
        if pattern.search(text):
            scores[problem_type] += weight
    if symptom:
        scores["design"] *= DESIGN_UNDER_SYMPTOM
    return scores, symptom


def cue_scores(text: str) -> dict[str, float]:
    return _evidence(text)[0]


def note_scores(results: list[ScoredNote]) -> dict[str, float]:
    scores = dict.fromkeys(TYPES, 0.0)
    top = [r for r in results[: len(RANK_DECAY)] if r.score > 0 and r.note.problem_type in scores]
    if not top:
        return scores
    best = top[0].score
    weights = [decay * (r.score / best) for decay, r in zip(RANK_DECAY, top)]
    total = sum(weights)
    for weight, result in zip(weights, top):
        scores[result.note.problem_type] += NOTE_WEIGHT * weight / total
    return scores


def classify(text: str, results: list[ScoredNote]) -> str:
    """design | performance | correctness | unknown."""
    notes = note_scores(results)
    cues, symptom = _evidence(text)
    if symptom:  # design means "nothing is broken yet": a design topic does not make a bug a design question
        notes["design"] *= DESIGN_UNDER_SYMPTOM
    combined = {t: notes[t] + cues[t] for t in TYPES}
    # on a tie, what the message says beats what the topic usually is
    best = max(TYPES, key=lambda t: (combined[t], cues[t]))
    if combined[best] <= 0:
        return "unknown"
    return best


def design_weight(text: str) -> float:
    """The design cues of a message, without the discount a reported symptom applies to them."""
    return sum(weight for pattern, problem_type, weight in _COMPILED
               if problem_type == "design" and pattern.search(text or ""))
