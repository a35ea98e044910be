"""Symptoms a team reports, recognised by rules: what went wrong, what changed before it, and the error text.

A symptom in a hedged clause ("worried it gets stale", "what if the worker dies") is a risk, not a report, and does
not count (the same rule as bot/consult/classify.py). Ids and meanings are in bot/consult/vocabulary.py.
"""

from __future__ import annotations

import re

from bot.consult.classify import _HEDGE

_I = re.I | re.M
# Each symptom: one pattern of the ways teams describe it. Checked against the message with hedged clauses removed.
PATTERNS: dict[str, re.Pattern[str]] = {name: re.compile(pattern, _I) for name, pattern in {
    "slow-after-adding-related-data":
        r"(?:slow|slower|latency|took|takes|time)\w*[^.?!\n]{0,80}(?:since|after|when) (?:we |i |someone |they )?"
        r"(?:added|add|include[ds]?|nested|embedded|started (?:returning|including)|exposed?)\b[^.?!\n]{0,60}"
        r"(?:to|in|into) (?:the |each |every |our )?(?:response|payload|serializer|api|endpoint|json|list|page|output|query|resolver|dto|mapper|view|template)"
        r"|(?:since|after) (?:we |i )?(?:added|include[ds]?|nested)\b[^.?!\n]{0,60}(?:to|in) (?:the |each |every )?(?:response|payload|serializer|resolver|dto|mapper)"
        r"[^.?!\n]{0,80}(?:slow|latency|\d+\s*(?:ms|s)\b)",
    "many-queries-per-request":
        r"\b(?:runs?|running|fires?|makes?|does|issues?|executes?|triggers?|sends?|generates?|shows?|counted|see)\s+"
        r"(?:~|about |over |like |around )?\d{2,}[\d,]*\s*(?:sql |db |database |separate |similar |identical |tiny )?"
        r"(?:queries|selects|round ?trips)\b(?!\s*(?:/|per|a)\s*(?:second|sec|s|minute)\b)"
        r"|\b\d{2,}[\d,]*\s*(?:queries|selects) (?:per|for each|for every|for one|on each|on every|in one|in a single|for) "
        r"(?:\d+ )?\w+|\bn ?\+ ?1\b|\bone query per (?:row|item|record)\b"
        r"|\bquer(?:y|ies) (?:for each|per) (?:row|item|record|invoice|order|ticket|user|post)\b|\bqueries in a loop\b",
    "slow-query":
        r"\b(?:query|select|report|sql|statement)\b[^.?!\n]{0,40}\b(?:is |got |became |runs? |takes? |took )?(?:slow|too long|forever|\d+(?:\.\d+)?\s*(?:s|sec|seconds|minutes|min))\b"
        r"|\bseq(?:uential)? scan\b|\bnot us(?:e|ing) (?:the |our |an? )?index\b|\bignor\w* (?:the |our )?index\b",
    "slow-endpoint":
        r"\b(?:endpoint|api|page|request|route|view|screen|dashboard|resolver)s?\b[^.?!\n]{0,50}\b(?:slow|sluggish|laggy|times? out|timing out|p9\d)\b"
        r"|\bslow (?:endpoint|api|page|requests?|responses?)\b|\bp9\d\b[^.?!\n]{0,30}\b(?:went|jumped|is|spiked)\b",
    "slow-deep-pages":
        r"\b(?:later|deep|high|last|far) pages?\b|\bpage \d{2,}\b|\bpage=\d{2,}|\boffset \d{3,}|\b(?:large|big|huge|deep) offsets?\b"
        r"|\bslow(?:er)? the (?:further|deeper)\b",
    "pool-exhausted":
        r"\bgetConnection\b|\bconnection (?:is not available|timeout|pool (?:exhausted|timeout|is full))|\bpool (?:exhausted|timeout)"
        r"|\btoo many (?:connections|clients)\b|\bremaining connection slots\b|\bQueuePool limit\b|\bwaiting for (?:a )?connection"
        r"|\b(?:timeout|timed out) (?:acquiring|waiting for|obtaining) (?:a )?connection|\bsorry, too many clients\b"
        r"|\bout of connections\b|\bmax_connections\b[^.?!\n]{0,40}\b(?:hit|reached|exceeded|limit)\b",
    "migration-lock-outage":
        r"\b(?:migration|alter table|add_column|add column|ddl|schema change|index creation|create_index|create index|"
        r"alembic upgrade|deploy)\b[^.?!\n]{0,160}"
        r"\b(?:froze|freez\w*|hung|hang\w*|blocked|locked|stuck|took (?:the )?(?:site|app|api) down|outage|downtime|timeouts?|stalled|piled up)\b"
        r"|\block(?:ing)? queue\b|\bwaiting for (?:an? )?(?:access exclusive|relation) lock\b|\bAccessExclusiveLock\b",
    "old-code-breaks-after-migration":
        r"\b(?:old|previous|running) (?:pods?|code|version|instances?|release|app servers?)\b[^.?!\n]{0,80}\b(?:crash\w*|fail\w*|error\w*|broke\w*|500s?|exceptions?)\b"
        r"|\b(?:column|field) [\"'`]?\w+[\"'`]? does not exist\b|\b(?:dropped|renamed|removed) (?:a |the )?column\b[^.?!\n]{0,80}\b(?:crash\w*|fail\w*|error\w*|broke\w*|500s?)\b",
    "slow-migration-backfill":
        r"\bbackfill\w*\b[^.?!\n]{0,80}\b(?:slow|hours|locks?|locked|stuck|forever|timed? ?out)\b|\bupdate (?:on |of )?(?:all|every|\d+\w*) rows\b[^.?!\n]{0,60}\b(?:lock|slow|hours)\b",
    "duplicate-side-effect":
        r"\b(?:charg\w*|bill\w*|email\w*|notif\w*|sen[dt]s?|sending|ship\w*|creat\w*|book\w*|paid|pays?|refund\w*|"
        r"credit\w*|debit\w*|insert\w*|post\w*|publish\w*)\b[^.?!\n]{0,40}\btwice\b"
        r"|\bdouble[- ]?(?:charg|book|spend|process|sen[dt]|submit|ship|pay)\w*|\bduplicate (?:rows|orders|charges|payments|emails|records|entries|bookings|invoices|tickets)\b"
        r"|\b(?:two|2) (?:identical |duplicate )?(?:rows|orders|charges|payments|emails|records|invoices)\b[^.?!\n]{0,40}\b(?:instead of one|for the same)\b",
    "duplicate-message-processing":
        r"\b(?:consumer|worker|job|task|handler|message|event|webhook)s?\b[^.?!\n]{0,60}\b(?:processed|handled|ran|run|executed|delivered|consumed|redelivered)\b[^.?!\n]{0,20}\b(?:twice|more than once|multiple times|again)\b"
        r"|\bredeliver\w*|\bat[- ]least[- ]once\b[^.?!\n]{0,60}\b(?:duplicate|twice)",
    "lost-update":
        r"\blost (?:update|edit|write)s?\b|\b(?:edits?|changes?|updates?|writes?) (?:\w+ )?(?:get |got |are |were )?(?:lost|overwritten|clobbered|silently reverted|wiped)\b"
        r"|\boverwrit\w+ (?:each other|someone|another|the other)|\blast (?:write|writer|save) wins\b|\bsaves? over\b",
    "lost-message":
        r"\b(?:jobs?|tasks?|messages?|events?|emails?|webhooks?)\b[^.?!\n]{0,40}\b(?:vanish\w*|disappear\w*|(?:get|got|are|were) lost|lost|never (?:arrive|sent|run|processed|published|get)\w*|go missing|went missing|dropped)\b"
        r"|\b(?:committed|saved)[^.?!\n]{0,60}\bbut (?:the )?(?:event|message|job)\b[^.?!\n]{0,30}\bnever\b|\bdual[- ]write\b",
    "oversell":
        r"\boversell\w*|\boversold\b|\boverbook\w*|\bnegative (?:stock|inventory|balance|quantity|seats)\b|\bsold (?:more|out) than\b"
        r"|\bmore (?:orders|bookings|tickets) than (?:stock|seats|capacity|inventory)\b",
    "deadlock": r"\bdeadlock\w*|\bcould not serialize\b|\bserializ(?:ation|able) (?:failure|error)\b|\b40P01\b|\b40001\b",
    "hot-row-contention":
        r"\b(?:counter|balance|single row|same row|hot row|one row|inventory row)\b[^.?!\n]{0,60}\b(?:lock|wait|contention|slow|blocked)\w*"
        r"|\block (?:contention|waits?)\b|\brow lock\w*\b",
    "stale-read":
        r"\b(?:see|sees|seeing|shows?|showing|returns?|returned|reads?|get|gets)\b[^.?!\n]{0,30}\b(?:old|stale|outdated|previous) \w+"
        r"|\b(?:deleted|removed|old)\s+\w+\s+still (?:come|comes|show|shows|showing|appear\w*)\b|\bis yesterday'?s\b"
        r"|\breplica lag\b|\bread[- ]after[- ]write\b|\bstale (?:data|reads?|cache|values?|prices?)\b|\bnot (?:yet )?(?:visible|showing up) (?:right )?after\b",
    "cache-stampede":
        r"\bstampede\b|\bthundering herd\b|\bdogpile\b|\b(?:cache|key)s? expir\w*[^.?!\n]{0,60}\b(?:spike|load|hammer|cpu|falls? over)\w*|\bcache miss(?:es)? storm\b",
    "job-backlog":
        r"\b(?:queue|backlog|lag)\b[^.?!\n]{0,40}\b(?:grow\w*|keeps growing|piling up|backs? up|backed up|behind)\b"
        r"|\b(?:workers?|consumers?)\b[^.?!\n]{0,40}\b(?:can'?t|cannot|don'?t|do not) keep up\b|\bconsumer lag\b|\bfall(?:s|ing)? behind\b",
    "request-timeout":
        r"\b(?:request|endpoint|upload|export|import|report|webhook)s?\b[^.?!\n]{0,60}\b(?:times? out|timing out|timed out|504|gateway timeout|h12)\b"
        r"|\b(?:30|60)\s*(?:s|second) (?:timeout|limit)\b",
    "dependency-outage":
        r"\b[\w-]+[- ](?:service|api)\b[^.?!\n]{0,40}\b(?:had a bad deploy|was down|went down|answered in|responded in|took \d+\s*s)"
        r"|\b(?:downstream|upstream|third[- ]party|payment provider|vendor|partner|external) (?:api|service|provider)?\b[^.?!\n]{0,60}\b(?:down|slow|outage|timeouts?|failing)\b[^.?!\n]{0,60}\b(?:took|takes|bring|brought|whole|everything|us down|cascad\w*)"
        r"|\bcascad\w* failures?\b|\bthreads? (?:all )?(?:stuck|blocked) (?:on|waiting)",
    "retry-storm": r"\bretry storm\b|\bretries (?:made|make|multipl\w*|amplif\w*|hammer\w*)|\bthundering\b[^.?!\n]{0,20}\bretr",
    "cross-tenant-access":
        r"\b(?:see|saw|seeing|access\w*|view\w*|read|download\w*|edit\w*|modify)\b[^.?!\n]{0,40}\b(?:other|another|someone else'?s|other (?:tenants?|customers?|users?|companies|orgs?)'?s?)\b[^.?!\n]{0,30}\b(?:data|invoices|orders|records|tickets|files|documents|accounts?)\b"
        r"|\bidor\b|\bcross[- ]tenant\b|\bchang\w* the id in the url\b",
    "auth-token-problem":
        r"\b(?:tokens?|jwts?|sessions?)\b[^.?!\n]{0,60}\b(?:can'?t be revoked|cannot be revoked|still (?:work|valid|accepted)|never expire|stay(?:s|ed)? logged in|invalid signature|expired)\b"
        r"|\blogged out\b[^.?!\n]{0,40}\b(?:randomly|still)\b",
    "secrets-in-logs": r"\b(?:passwords?|secrets?|tokens?|api keys?|credentials|pii|emails?|card numbers?)\b[^.?!\n]{0,50}\b(?:in|into) (?:the |our )?(?:\w+ )?logs?\b",
    "breaking-api-change":
        r"\b(?:clients?|apps?|mobile apps?|partners?|integrations?|consumers?)\b[^.?!\n]{0,60}\b(?:broke|break|crash\w*|fail\w*)\b[^.?!\n]{0,60}\b(?:after|when) we (?:removed|renamed|changed)\b"
        r"|\b(?:removed|renamed) (?:a |the )?field\b[^.?!\n]{0,60}\b(?:broke|crash\w*|fail\w*)",
    "time-zone-bug": r"\boff by (?:an |one |two |\d+ )?hours?\b|\btime ?zones?\b[^.?!\n]{0,40}\b(?:wrong|bug|off|shift\w*)|\bdst\b|\bdaylight saving\b",
    "money-rounding": r"\boff by (?:a |one |\d+ )?cents?\b|\brounding (?:error|issue|bug)s?\b|\b0\.1 ?\+ ?0\.2\b|\bfloat(?:ing[- ]point)? (?:for|money|amounts|prices)\b",
    "id-overflow": r"\bout of range for type integer\b|\binteger out of range\b|\b2147483647\b|\b(?:ids?|sequence|key)s? (?:ran|running|run) out\b|\bint(?:eger)? overflow\b",
    "memory-growth": r"\bout of memory\b|\boom[- ]?kill\w*|\boom\b|\bmemory (?:grows?|keeps growing|leak\w*|spikes?|usage climbs)\b|\bheap (?:space|out)\b",
    "search-slow": r"(?:\blike ['\"]?%|\bilike\b)[^.?!\n]{0,80}\b(?:slow|seconds|timeouts?|seq scan)\b"
                   r"|\bfull[- ]text search\b[^.?!\n]{0,40}\b(?:slow|bad|poor)\b|\bsearch (?:box|endpoint|is|got) (?:\w+ )?slow\b",
    "rate-limit-abuse": r"\bbrute[- ]?forc\w*|\bcredential stuffing\b|\b(?:a |one )?(?:client|customer|partner|bot|scraper)s? (?:is |are )?(?:hammer\w*|flood\w*|spamm\w*|scrap\w*|abus\w*)",
}.items()}

_CHANGE = re.compile(
    r"\b(?:since|after|ever since|right after)\s+(?:we|i|someone|they|the team)\s+((?:added|deployed|upgraded|migrated|switched|enabled|"
    r"introduced|released|shipped|turned on|moved|started|changed|removed|renamed|dropped|bumped|rolled out|included|put)"
    r"\b[^.?!;\n]{3,90})", re.I)
_NEXT_CLAUSE = re.compile(r",\s|\s(?:which|so|but|and now|now|and then|then|when|because)\s", re.I)
_ERROR = re.compile(
    r"\b(?:ERROR|FATAL|PANIC):[^\n]+|\b[A-Z][\w.]*(?:Error|Exception)\b(?::|\s+-)[^\n]*"
    r"|\b(?:remaining connection slots are reserved[^\n.]*|too many clients already|could not serialize access[^\n.]*"
    r"|deadlock detected|canceling statement due to [^\n.]+)", re.M)


_ASYNC_WORK = re.compile(r"\b(?:celery|sidekiq|bullmq|rq|task|tasks|job|jobs|worker|workers|consumer|consumers|queue|"
                         r"kafka|rabbit\w*|sqs|acks?_late|visibility[_ ]timeout|redeliver\w*|webhooks?)\b", re.I)


def reported(text: str) -> list[str]:
    """Symptom ids reported in a message, in vocabulary order, hedged clauses left out."""
    unhedged = _HEDGE.sub(" ", text or "")
    found = [name for name, pattern in PATTERNS.items() if pattern.search(unhedged)]
    # A side effect done twice by a job, worker or consumer is a redelivery problem first.
    if "duplicate-side-effect" in found and "duplicate-message-processing" not in found and _ASYNC_WORK.search(unhedged):
        found.insert(found.index("duplicate-side-effect"), "duplicate-message-processing")
    return found


def change_before(text: str) -> str | None:
    """What changed before the problem ("we added line items to the response"), as the team said it."""
    match = _CHANGE.search(text or "")
    if not match:
        return None
    said = re.sub(r"\s+", " ", match.group(1)).strip()
    # The change ends where the next clause starts ("…, and p99 doubled", "… which was last week").
    said = _NEXT_CLAUSE.split(said, 1)[0].strip()
    return re.sub(r"^(?:we|i|they)\s+", "", said)


def error_text(text: str) -> str | None:
    match = _ERROR.search(text or "")
    return re.sub(r"\s+", " ", match.group(0)).strip()[:200] if match else None
