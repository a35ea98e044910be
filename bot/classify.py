"""Classify a question as a design, performance or correctness problem.

Two kinds of evidence are added up: the problem_type of the best-matching notes (weighted by their score
relative to the best one and by rank) and cues in the text itself ("slow", "p99" -> performance;
"duplicate", "race", "twice" -> correctness; "how should I design/structure/model" -> design). With no
matching notes and no cue at all ("hi") the answer is "unknown".
"""

from __future__ import annotations

import re

from bot.knowledge.port import ScoredNote

TYPES = ("design", "performance", "correctness")

# (pattern, problem type, weight). Patterns are matched case-insensitively against the whole message.
CUES: tuple[tuple[str, str, float], ...] = (
    # performance
    (r"\bslow(?:er|ly|ness|s|ed)?\b|\bsluggish\b|\bcrawl(?:s|ing)?\b|\blag(?:gy|s|ging)?\b", "performance", 1.5),
    (r"\blaten(?:cy|cies)\b|\bp(?:50|90|95|99|999)\b|\bthroughput\b|\b[rq]ps\b|\bperf(?:ormance)?\b", "performance", 1.2),
    (r"\btime[sd]?[ -]?outs?\b|\b(?:e)?timedout\b|\btiming out\b|\bdeadline[ _]exceeded\b|\btakes? (?:\d+|forever|ages|seconds|minutes)\b"
     r"|\b\d+(?:\.\d+)? ?(?:ms|s|sec|secs|seconds|min|mins|minutes|h|hours)\b", "performance", 1.0),
    (r"\bcpu\b|\bmemory\b|\bram\b|\boom\b|\bbottleneck\b|\bhigh load\b|\bunder load\b|\bspikes?\b|\bfull (?:table )?scan\b"
     r"|\bseq(?:uential)? scan\b|\b\d+ ?(?:gb|mb)\b|\b\d+ ?%|\b(?:memory|connection|goroutine|thread|file descriptor)s? leak\w*"
     r"|\bleak(?:s|ing)? (?:memory|connections|goroutines|threads)\b", "performance", 0.8),
    (r"\btoo many (?:connections|clients|queries)\b|\bconnection (?:limits?|exhaustion)\b|\bn ?\+ ?1\b|\bspeed(?:s|ing)? up\b"
     r"|\bfaster\b|\boptimi[sz]\w*|\bscal(?:e|ing)\b|\bhung\b|\bhangs?\b|\bhanging\b|\bfr[oe]ez\w*|\bqueue(?:s|d)? up\b"
     r"|\brewrit\w* the (?:whole |entire )?table\b|\btable rewrite\b|\bfalls? over\b|\btakes? forever\b", "performance", 0.8),
    # correctness
    (r"\bduplicat(?:e|es|ed|ion)\b|\bdupes?\b|\btwice\b|\bdouble[- ]?(?:charg|book|spend|process|sen[dt]|count|submit|ship)\w*", "correctness", 1.5),
    (r"\brace(?:s|y)?\b|\brace condition|\blost updates?\b|\bconcurrent(?:ly)?\b|\bat the same time\b|\bsimultaneous(?:ly)?\b"
     r"|\b(?:another|other|concurrent) (?:transaction|request|process|worker|thread)s?\b", "correctness", 1.3),
    (r"\binconsisten(?:t|cy|cies)\b|\bout of sync\b|\bdrift\w*|\bwrong (?:total|balance|count|value|data|result)s?\b|\boverwrit\w*"
     r"|\boversell\w*|\boverbook\w*|\b(?:still )?(?:see|sees|seeing|shows?|showing|returns?|gets?) (?:the )?(?:old|outdated|previous|stale)\b"
     r"|\b(?:don'?t|doesn'?t|didn'?t|can'?t|cannot|not) (?:see|find|show)\b|\bnever (?:show|arrive|appear|get)\w*", "correctness", 1.2),
    (r"\bnegative (?:stock|balance|inventory)\b|\bmissing (?:rows|data|events|messages|updates)\b|\bout of order\b|\bphantom\b"
     r"|\bstale\b|\bcorrupt\w*|\boverflow\w*|\bwrap(?:s|ped)? around\b|\btruncat\w*|\b(?:drop|lose|lost|losing|vanish)\w* (?:[\w-]+ )?(?:requests?|messages?|events?|data|jobs?|tasks?|writes?|updates?)\b"
     r"|\b(?:tasks?|jobs?|messages?|events?) (?:just )?(?:vanish|disappear|get lost)\w*", "correctness", 0.9),
    (r"\bdeadlock\w*|\bserializ(?:ation|able) (?:failure|error)\b|\bcould not serialize\b|\bunique (?:constraint|violation)\b|\bidempoten\w*"
     r"|\b(?:un)?safe(?:ly)?\b", "correctness", 0.8),
    (r"\bdata leak\w*|\bleak(?:s|ed|ing)? (?:\w+ )?(?:data|records|pii|secrets?|tokens?|passwords?|emails?)\b|\bidor\b|\bcross[- ]tenant\b|\b(?:see|saw|read|access|view)\w* (?:other|another|\w+ \w+'s) (?:\w+'?s? )?(?:data|records|invoices|orders|accounts?)\b"
     r"|\b(?:other|another|wrong) (?:tenant|customer|user|account)'?s?'? data\b|\bvulnerab\w*|\bbypass\w*", "correctness", 1.2),
    # design
    (r"\bhow (?:should|do|would|can) (?:i|we|you) (?:design|structure|model|organi[sz]e|split|lay ?out|architect|version|name|approach|represent)\b", "design", 1.5),
    (r"\b(?:best|recommended|right|cleanest|idiomatic) (?:way|practice|approach|pattern)s?\b|\bpros and cons\b|\btrade-?offs?\b"
     r"|\bwhich is better\b|\bbetter than\b", "design", 1.2),
    (r"\bshould (?:i|we) (?:use|go with|pick|choose|split|have|keep|put|model|store|rely|adopt|switch)\b|\b(?:vs\.?|versus)\b|\bor should\b"
     r"|\bdesign(?:ing)?\b|\barchitect\w*|\bwhat should (?:i|we) (?!do\b)\w+|\bwhere (?:do|should) (?:i|we) (?:store|put|keep|start)\b"
     r"|\bset(?:ting)? up\b|\bworth it\b|\bworth the\b", "design", 1.0),
    (r"\bstructure\b|\bschema for\b|\bmodel(?:l?ing)? (?:a|the|our|this)\b|\bmicroservices?\b|\bmonolith\b|\bboundar(?:y|ies)\b|\bconventions?\b", "design", 0.7),
)
_COMPILED = tuple((re.compile(p, re.I), t, w) for p, t, w in CUES)

NOTE_WEIGHT = 1.5  # total weight the retrieved notes contribute (spread over the top results)
RANK_DECAY = (1.0, 0.6, 0.4)


def cue_scores(text: str) -> dict[str, float]:
    scores = dict.fromkeys(TYPES, 0.0)
    for pattern, problem_type, weight in _COMPILED:
        if pattern.search(text):
            scores[problem_type] += weight
    return scores


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
    cues = cue_scores(text or "")
    combined = {t: notes[t] + cues[t] for t in TYPES}
    best = max(TYPES, key=lambda t: combined[t])
    if combined[best] <= 0:
        return "unknown"
    return best
