"""Turning a chat message into FTS5 query terms.

People paste code, SQL, stack traces and error messages into their questions. Prose keeps all of its
non-stop-words; error lines (``psycopg2.errors.DeadlockDetected: deadlock detected``) count as prose;
code, SQL and stack frames only contribute tokens the notes use as vocabulary in titles, tags and aliases,
plus any alias phrase that appears verbatim (``select_related``, ``FOR UPDATE``, ``SKIP LOCKED``), so a
40-line paste cannot drown the two sentences around it. Misspelled words are corrected against the
notes' own key vocabulary. Synonyms live in the notes' aliases, never here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_PHRASE = 6  # longest alias (in words) matched verbatim in a message
MAX_IDENTIFIERS = 16  # identifiers from pasted code that may match note bodies (their code examples)

# English function words plus chat filler. Domain words (slow, twice, lock...) are never stop words.
STOP_WORDS = frozenset("""
advice anybody appreciated idea ideas super suggestions thoughts wtf lol ppl folks team vs versus
a about above after again against ago all almost also although am an and another any anybody anyone anything
anyway anyways are aren around as ask asked asking at away be became because become been before being below
best better between both but by can cannot cant could couldn did didn didnt do does doesn doesnt doing don dont
done down during each either else etc even ever every everyone everything exactly few for from further get gets
getting give given go goes going gone good got gotten guess guys had hadn has hasn hasnt have haven havent having
he hello help her here hers hey hi him his how however i id if ill im in into is isn isnt it its itself ive just
kind kinda know knows let lets like likely lol look looking lot lots made make makes making many may maybe me
mean means might mine more most much must my myself need needed needs new no nor not nothing now of off often oh
ok okay old on once one only or other others otherwise our ours ourselves out over own per perhaps please pls plz
pretty probably put question questions quick quite rather re really right said same say says see seem seems
seen should shouldn since so some somebody someone something sometimes somewhat sorry still stuff such
sure take tell than thank thanks that thats the their theirs them then there theres these they thing things
think this those though thought through thx to today told too tried tries try trying two ty under until up upon
us use used uses using usually very via want wanted wants was wasn way ways we well were weren what whats when
where whereas whether which while who whom whose why will with within without won wondering wont would wouldn
yeah yes yet you your yours yourself
""".split())

# SQL keywords: dropped from SQL that is pasted into a prose line (function names such as count stay).
SQL_WORDS = frozenset("""
select from where and or not null is in as on join left right inner outer full cross group order by having limit
insert into values update set delete create table alter add column drop index unique primary key references
default begin commit rollback end case when then else true false asc desc union all exists between like returning
with
""".split())
# Keywords of SQL and common languages: never informative when they come from a code paste.
CODE_WORDS = SQL_WORDS | frozenset("""
distinct count sum avg min max def class return import self cls none async await yield lambda pass raise
try except finally if elif for while print const let var function new this public private protected static void
int integer string str bool boolean float double long char text varchar bigint serial timestamp timestamptz uuid
json jsonb func type struct interface package err nil go defer fmt log err string map list dict get post put
patch http https www com org io api id ids name names value values data model models obj object objects item items
user users order orders row rows app src lib main test tests py js ts java rb line file self args kwargs
""".split())

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?(?:[_+\-./][A-Za-z0-9]+(?:['’][A-Za-z]+)?)*")
_URL = re.compile(r"\b(?:https?|postgres(?:ql)?|mysql|redis|amqp)://\S+", re.I)
_FENCED = re.compile(r"```.*?(?:```|\Z)", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_ERROR_LINE = re.compile(
    r"(?:\b[\w.$]*(?:Error|Exception|Failure|Violation|Fault|Timeout|Refused|Deadlock\w*)\b\s*:"
    r"|^\s*(?:ERROR|FATAL|PANIC|DETAIL|HINT|WARNING|CAUSED BY|Caused by)\b\s*:?"
    r"|\b(?:error|exception)\s*:)"
)
_FRAME_LINE = re.compile(
    r"^\s*(?:File \".*\", line \d+|at [\w.$<>\[\]/]+\s*\(.*\)|at [\w.$<>]+(?:\.[\w$<>]+)+\s*$|Traceback \(most recent call last\)"
    r"|\.\.\. \d+ more|goroutine \d+|[\w./-]+\.(?:py|go|js|ts|java|rb|kt|cs):\d+|\^+\s*$)"
)
_CODE_START = re.compile(
    r"^\s*(?:def |class |import |from [\w.]+ import |return\b|const |let |var |func |public |private |protected "
    r"|@\w+|#include|if \(|for \(|while \(|\}|\{|//|#!|\$ |>>> |In \[\d+\]|>\s*\w+\(|"
    r"(?:select|insert|update|delete|with|create|alter|drop|explain|begin|commit)\b.*(?:\bfrom\b|\binto\b|\bset\b|\btable\b|\bindex\b|\bas\b|;|\(|\*))",
    re.I,
)
# SQL that starts in the middle of a prose line ("this is slow: select * from orders where ...").
_INLINE_SQL = re.compile(
    r"\b(?:select\s+(?:\*|distinct\b|count\s*\(|[\w.]+\s*,|[\w.]+\s+from\b)|update\s+\w+\s+set\s+\w+\s*="
    r"|insert\s+into\s+\w+|delete\s+from\s+\w+|alter\s+table\s+\w+|create\s+(?:unique\s+)?index\b"
    r"|create\s+table\s+\w+\s*\(|explain\s+(?:\(|analyze\b|select\b))",
    re.I,
)
_CALL = re.compile(r"(?:(?<=\.)|(?<![\w.]))([A-Za-z_]\w*)\(\)")
_PLAIN_WORD = re.compile(r"^[A-Za-z][a-z]*['’]?[a-z]*[,.?!:;)]*$")


@dataclass
class Vocabulary:
    """What the notes say, for query normalisation (built from the notes, not hand-written)."""

    words: set[str] = field(default_factory=set)  # every word in the notes, lowercased
    key_words: set[str] = field(default_factory=set)  # words in titles, tags and aliases
    phrases: set[tuple[str, ...]] = field(default_factory=set)  # multi-word aliases as (plural-folded) token tuples
    longest_phrase: int = 0
    _deletes: dict[str, set[str]] = field(default_factory=dict)
    _freq: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"words": sorted(self.words), "key_words": sorted(self.key_words),
                "phrases": sorted(self.phrases), "longest_phrase": self.longest_phrase,
                "deletes": {key: sorted(words) for key, words in self._deletes.items()}, "freq": self._freq}

    @classmethod
    def from_json(cls, data: dict) -> Vocabulary:
        return cls(set(data["words"]), set(data["key_words"]), {tuple(p) for p in data["phrases"]},
                   data["longest_phrase"], {key: set(words) for key, words in data["deletes"].items()}, data["freq"])

    @classmethod
    def build(cls, key_texts: Iterable[str], aliases: Iterable[str], all_texts: Iterable[str], spell_texts: Iterable[str]) -> Vocabulary:
        vocab = cls()
        for text in all_texts:
            vocab.words.update(_simple_tokens(text))
        for text in key_texts:
            vocab.key_words.update(t for t in _simple_tokens(text) if t not in STOP_WORDS)
        for alias in aliases:
            tokens = tuple(_norm(t) for t in _simple_tokens(alias))
            if 1 < len(tokens) <= MAX_PHRASE:
                vocab.phrases.add(tokens)
                vocab.longest_phrase = max(vocab.longest_phrase, len(tokens))
        for text in spell_texts:
            for token in _simple_tokens(text):
                if len(token) >= 4 and token.isalpha() and token not in STOP_WORDS:
                    vocab._freq[token] = vocab._freq.get(token, 0) + 1
        for word in vocab._freq:
            for key in _deletions(word):
                vocab._deletes.setdefault(key, set()).add(word)
        return vocab

    def correct(self, word: str) -> str | None:
        """The closest key word to a misspelled one (edit distance <= 2 via single deletions), or None.

        Candidates must start with the same letter: typos rarely hit the first letter, while ordinary English
        words the notes happen not to use are often one letter away from a key word ("jumps"/"bumps",
        "blows"/"flows"), and "correcting" them adds a wrong term to the query.
        """
        if len(word) < 4 or not word.isalpha() or word in self.words:
            return None
        candidates: set[str] = set()
        for key in _deletions(word) | {word}:
            candidates |= self._deletes.get(key, set())
        candidates = {c for c in candidates if c[0] == word[0] and abs(len(c) - len(word)) <= 1
                      and _distance(word, c) <= (1 if len(word) < 6 else 2)}
        if not candidates:
            return None
        return max(sorted(candidates), key=lambda c: (-_distance(word, c), self._freq.get(c, 0)))


@dataclass(frozen=True)
class Term:
    text: str  # already normalised: lowercase words separated by single spaces
    prefix: bool = False
    source: str = "prose"  # prose | sql | code | alias | spelling | identifier
    body_only: bool = False  # identifiers from pasted code: matched against note bodies (their code) only

    def fts(self) -> str:
        quoted = '"' + self.text.replace('"', '""') + '"'
        return quoted + " *" if self.prefix else quoted


def _simple_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _norm(token: str) -> str:
    """A crude plural fold so alias phrases match 'locks' for 'lock'."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def split_regions(text: str) -> tuple[list[str], list[str], list[str]]:
    """(prose, inline SQL, code) pieces of a message.

    Error lines count as prose; stack frames, fenced blocks and code-looking lines as code; SQL that starts in
    the middle of a prose line ("this is slow: select count(*) from events, any idea?") as inline SQL, which
    loses its keywords but keeps its other words, because the sentence often goes on after the SQL.
    """
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("“", '"').replace("”", '"')
    text = _URL.sub(" ", text)
    code: list[str] = []

    def fenced(match: re.Match) -> str:
        inner = match.group(0)[3:]
        inner = inner[:-3] if inner.endswith("```") else inner
        if "\n" in inner:  # drop the info string (```python)
            inner = inner.split("\n", 1)[1]
        for line in inner.splitlines():
            (prose_lines if _ERROR_LINE.search(line) else code).append(line)
        return "\n"

    prose_lines: list[str] = []
    inline_sql: list[str] = []
    text = _FENCED.sub(fenced, text)

    def inline(match: re.Match) -> str:
        content = match.group(1)
        if len(content) > 40 or _INLINE_SQL.search(content):
            code.append(content)
            return " "
        return " " + content + " "

    text = _INLINE_CODE.sub(inline, text)
    for line in text.splitlines():
        if not line.strip():
            continue
        sql = _INLINE_SQL.search(line)
        if _ERROR_LINE.search(line) and not _FRAME_LINE.search(line):
            prose_lines.append(line)
        elif _FRAME_LINE.search(line):
            code.append(line)
        elif sql and _has_prose_tail(line[sql.start():]):
            prose_lines.append(line[: sql.start()])
            inline_sql.append(line[sql.start():])
        elif _looks_like_code(line):
            code.append(line)
        else:
            prose_lines.append(line)
    return prose_lines, inline_sql, code


def _has_prose_tail(sql: str) -> bool:
    """Whether a line that starts with SQL goes on in prose ("select count(*) from t takes 20s, any idea?")."""
    words = sql.split()
    tail = words[-5:]
    plain = sum(1 for w in tail if _PLAIN_WORD.match(w) or w.rstrip(",.?!").isdigit())
    return len(words) <= 40 and len(tail) == 5 and plain >= 4 and not sql.rstrip().endswith(";")


def _looks_like_code(line: str) -> bool:
    if _CODE_START.match(line):
        return True
    if line.startswith(("    ", "\t")) and not line.strip().startswith(("-", "*", "•")):
        return True
    words = line.split()
    if len(words) >= 3:
        plain = sum(1 for w in words if _PLAIN_WORD.match(w))
        if plain / len(words) < 0.45:
            return True
    symbols = sum(line.count(c) for c in "(){}[];=<>")
    return symbols >= 6 and symbols / max(1, len(line)) > 0.06


def _word_terms(word: str) -> list[str]:
    """One matched word -> FTS term texts: identifiers become phrases, paths split into words."""
    word = word.lower().replace("’", "'")
    word = re.sub(r"'(?:s|t|re|ve|ll|d|m)\b", lambda m: "" if m.group(0) == "'s" else m.group(0)[1:], word)
    word = word.replace("'", "")
    out: list[str] = []
    for part in re.split(r"[./]", word):
        if not part:
            continue
        if "_" in part or "+" in part:
            pieces = [p for p in re.split(r"[_+]", part) if p]
            if len(pieces) > 1:
                out.append(" ".join(pieces))
                continue
        out.extend(p for p in part.split("-") if p)
    return out


def _keep_prose(token: str) -> bool:
    if " " in token:
        return True
    if token in STOP_WORDS or len(token) < 2:
        return False
    if token.isdigit():
        return len(token) == 3  # HTTP status codes (429, 409, 504) are informative, other numbers are not
    if re.fullmatch(r"\d+[a-z]{1,3}", token):  # 50ms, 10k, 2m, 16gb
        return False
    return True


def build_terms(text: str, vocab: Vocabulary, *, prefix_min: int = 0, max_terms: int = 48) -> list[Term]:
    """The normalised query terms of a message, prose first."""
    prose, inline_sql, code = split_regions(text)
    terms: list[Term] = []
    seen: set[str] = set()

    def add(term: Term) -> None:
        key = " ".join(_norm(t) for t in term.text.split())
        if key not in seen:
            seen.add(key)
            terms.append(term)

    raw_sequences: list[list[str]] = []
    for line in prose:
        words = _WORD.findall(line)
        raw_sequences.append([t for w in words for t in _simple_tokens(w)])
        # Method and function names written as code (".only()", "values()") are kept even if they are stop words.
        for name in _CALL.findall(line):
            if len(name) > 2 and not name.isdigit():
                add(Term(name.lower()))
        for word in words:
            for token in _word_terms(word):
                if not _keep_prose(token):
                    continue
                fixed = vocab.correct(token) if " " not in token else None
                if fixed:
                    add(Term(fixed, source="spelling"))
                if not fixed:
                    # Prefix matching for long words the curated vocabulary lacks ("elastic" -> elasticsearch).
                    prefix = bool(prefix_min) and len(token) >= prefix_min and token.isalpha() and token not in vocab.key_words
                    add(Term(token, prefix=prefix))
    for line in inline_sql:
        words = _WORD.findall(line)
        tokens = [t for w in words for t in _simple_tokens(w)]
        raw_sequences.append(tokens)
        for word in words:
            for token in _word_terms(word):
                if " " not in token and token not in SQL_WORDS and _keep_prose(token):
                    add(Term(token, source="sql"))
        # Keyword pairs carry the meaning of a statement: "create index", "alter table", "for update".
        for first, second in zip(tokens, tokens[1:]):
            if first in SQL_WORDS and second in SQL_WORDS and first != second:
                add(Term(f"{first} {second}", source="sql"))
    identifiers: list[str] = []
    for line in code:
        tokens = _simple_tokens(line)
        raw_sequences.append(tokens)
        for token in tokens:
            if token in CODE_WORDS or token in STOP_WORDS or token.isdigit():
                continue
            if token in vocab.key_words:
                add(Term(token, source="code"))
            elif len(token) >= 3 and token.isalpha():
                identifiers.append(token)
    # Alias phrases that appear verbatim anywhere in the message, code included.
    for tokens in raw_sequences:
        normed = [_norm(t) for t in tokens]
        for i in range(len(normed)):
            for length in range(2, min(vocab.longest_phrase, len(normed) - i) + 1):
                if tuple(normed[i:i + length]) in vocab.phrases:
                    add(Term(" ".join(tokens[i:i + length]), source="alias"))
    prose_terms = [t for t in terms if t.source != "code"]
    code_terms = [t for t in terms if t.source == "code"]
    for token in identifiers[:MAX_IDENTIFIERS]:
        add(Term(token, source="identifier", body_only=True))
    body_terms = [t for t in terms if t.body_only]
    return (prose_terms + code_terms)[:max_terms] + body_terms


def fts_query(terms: Iterable[Term], *, body: bool = False) -> str:
    """The MATCH expression: every term OR-ed; identifiers from pasted code only in the body query."""
    return " OR ".join(term.fts() for term in terms if body or not term.body_only)
