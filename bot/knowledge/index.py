"""The knowledge retriever: an SQLite FTS5 index over the notes, ranked with bm25() column weights.

Index. Two FTS5 tables (porter stemming over unicode61), both ranked by bm25() with per-column weights
(WEIGHTS below): `notes_key` holds the short, curated text (title, aliases, tags, summary), `notes_body`
the "When this applies" symptoms, the diagnostic questions and the rest of the body. A note's score is
its key score plus BODY_FACTOR times its body score; bodies are scored only for the best key candidates
(plus notes whose bodies match identifiers from pasted code, plus the best body matches when few notes
match in their key text), which keeps a search over 10,000 notes at a few milliseconds. Two tables rather than one because bm25's IDF is per table: a
word such as "idempotency" or "lock" appears somewhere in the body of most notes, which would give it no
weight at all, while it appears in the titles and aliases of only a few. Finally, explicit problem-type
cues in the question ("slow", "twice": bot.consult.classify.cue_scores) mildly favour notes of that type.

It is persisted as
`<data_dir>/knowledge-index-<hash>.sqlite3`, where the hash covers every note file's path and bytes plus
INDEX_VERSION, so an edited, added or removed note means a new hash and a rebuild on the next load, and an
unchanged set of notes reuses the file. The retriever re-checks the note files at most every
`refresh_interval` seconds (stat only; it hashes and rebuilds only when something changed), never per
query. With no writable data dir it falls back to an in-memory index.

Query normalisation lives in bot.knowledge.query.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.knowledge import snapshot
from bot.knowledge.notes import SourceFile, knowledge_dirs, notes_from_sources, read_sources
from bot.knowledge.port import Note, Retriever, ScoredNote
from bot.knowledge.query import Term, Vocabulary, build_terms, fts_query

log = logging.getLogger(__name__)

# Bump when the schema, tokenizer, weights or stored column text change: it is part of the content hash.
INDEX_VERSION = "6"
TOKENIZER = "porter unicode61"
SYMPTOMS_SECTION = "When this applies"
KEY_COLUMNS: tuple[str, ...] = ("title", "aliases", "tags", "summary")
BODY_COLUMNS: tuple[str, ...] = ("symptoms", "questions", "body")
# bm25() weight per column. Aliases are the curated words users type; titles are short and exact;
# bodies are long and mention many neighbouring topics, so they only break ties.
WEIGHTS: dict[str, float] = {
    "title": 10.0, "aliases": 8.0, "tags": 4.0, "summary": 3.0, "questions": 1.5, "symptoms": 2.0, "body": 1.0,
}
BODY_FACTOR = 0.5  # weight of the body table's score relative to the key table's
TYPE_PRIOR = 0.75  # how much the problem-type cues in a question (bot.consult.classify) favour notes of that type
CANDIDATES = 20  # notes fetched before the type re-ranking
PREFIX_MIN = 6  # prefix-match prose words at least this long ("elastic" finds elasticsearch, "postgres" postgresql)
KEEP_INDEX_FILES = 4  # most recently used index files kept in the data dir; older ones are pruned

# ---------------------------------------------------------------------------------------------------------
# The retriever


def _note_columns(note: Note) -> tuple[str, ...]:
    """The text of KEY_COLUMNS then BODY_COLUMNS."""
    symptoms = note.sections.get(SYMPTOMS_SECTION, "")
    rest = "\n\n".join(f"## {title}\n{text}" for title, text in note.sections.items() if title != SYMPTOMS_SECTION)
    return (
        note.title,
        " ; ".join(note.aliases),
        " ; ".join(note.tags),
        note.summary,
        symptoms,
        " ; ".join(q.text for q in note.questions),
        rest if note.sections else note.body,
    )


def content_hash(sources: Sequence[SourceFile]) -> str:
    digest = hashlib.sha256(f"fts5-index v{INDEX_VERSION} {TOKENIZER} {KEY_COLUMNS} {BODY_COLUMNS}\n".encode())
    for source in sources:
        digest.update(f"{source.folder}\0{source.relpath}\0".encode())
        digest.update((source.text if source.text is not None else "\0unreadable\0").encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def _signature(directories: Sequence[Path]) -> tuple:
    entries = []
    for n, folder in enumerate(directories):
        if not folder.is_dir():
            entries.append((n, None))
            continue
        for path in sorted(folder.rglob("*.md")):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((n, str(path), st.st_mtime_ns, st.st_size))
    return tuple(entries)


def _weights(columns: Sequence[str]) -> str:
    return ", ".join(["0.0"] + [repr(WEIGHTS[c]) for c in columns])


# bm25() is lower-is-better; scores are negated so that higher is better. Rowids are the same in both tables.
# The body table has one more column, `nid`, holding a token unique to each note ("n<rowid>", weight 0), so
# that a single MATCH can score the bodies of just the candidate notes: `{questions body} : (...) AND nid : (n3 OR n17)`.
_BODY = "{" + " ".join(BODY_COLUMNS) + "}"
KEY_SQL = (f"SELECT rowid, note_id, -bm25(notes_key, {_weights(KEY_COLUMNS)}) AS score FROM notes_key "
           "WHERE notes_key MATCH ? ORDER BY score DESC LIMIT ?")
BODY_SQL = (f"SELECT rowid, note_id, -bm25(notes_body, {_weights(BODY_COLUMNS)}, 0.0) AS score FROM notes_body "
            "WHERE notes_body MATCH ? ORDER BY score DESC LIMIT ?")


def type_boosts(query: str) -> dict[str, float]:
    """Score multipliers per problem_type from explicit cues in the text ("slow" favours performance notes)."""
    from bot.consult.classify import cue_scores

    cues = cue_scores(query)
    total = sum(cues.values())
    if total <= 0:
        return {}
    return {t: 1.0 + TYPE_PRIOR * v / (total + 1.0) for t, v in cues.items()}


class FTS5Retriever(Retriever):
    """Full-text retrieval over knowledge notes with SQLite FTS5 and bm25() column weights.

    `directories`: one notes folder or several (later folders override earlier ones by id; see
    `from_settings`). `data_dir`: where the index file lives; None, or a folder that cannot be written,
    means an in-memory index. `refresh_interval`: seconds between cheap checks for changed note files
    (None: never re-check after loading).
    """

    def __init__(
        self,
        directories: Path | str | Iterable[Path | str],
        data_dir: Path | str | None = None,
        *,
        refresh_interval: float | None = 5.0,
    ) -> None:
        self._dirs = [Path(directories)] if isinstance(directories, (str, Path)) else [Path(d) for d in directories]
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._refresh_interval = refresh_interval
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._notes: dict[str, Note] = {}
        self._vocab = Vocabulary()
        self.builds = 0  # how many times this instance built an index (tests and diagnostics)
        self.index_path: Path | None = None  # None while the index is in memory
        self.hash = ""
        self._signature: tuple = ()
        self._checked_at = 0.0
        self._load()

    @classmethod
    def from_settings(cls, settings, **kwargs) -> FTS5Retriever:
        """The packaged notes plus a team's KNOWLEDGE_DIR (when set elsewhere), indexed in the data dir."""
        return cls(knowledge_dirs(settings.knowledge_dir), settings.data_dir, **kwargs)

    @classmethod
    def from_notes(cls, notes: Iterable[Note]) -> FTS5Retriever:
        """An in-memory index over notes that are not files (benchmarks, tests)."""
        self = cls.__new__(cls)
        self._dirs, self._data_dir, self._refresh_interval = [], None, None
        self._lock = threading.RLock()
        self._conn, self.builds, self.index_path, self._signature, self._checked_at = None, 0, None, (), 0.0
        self._set_notes(list(notes))
        self.hash = "in-memory"
        self._conn = self._build(sqlite3.connect(":memory:", check_same_thread=False), "in-memory")
        return self

    # -- the Retriever port ------------------------------------------------------------------------

    def search(self, query: str, k: int = 5) -> list[ScoredNote]:
        self._maybe_refresh()
        terms = self.terms(query)
        if not terms or k <= 0:
            return []
        boost = type_boosts(query)
        with self._lock:
            try:
                scores = self._scores(terms, max(k, CANDIDATES))
            except sqlite3.OperationalError as exc:  # a query FTS5 refuses must not break a conversation
                log.warning("knowledge search failed", extra={"error": str(exc)})
                return []
            notes = self._notes
        results = [ScoredNote(notes[i], score * boost.get(notes[i].problem_type, 1.0))
                   for i, score in scores.items() if i in notes]
        results.sort(key=lambda r: (-r.score, r.note.id))
        return results[:k]

    def _scores(self, terms: list[Term], candidates: int) -> dict[str, float]:
        """note id -> key score + BODY_FACTOR * body score, for the best candidates.

        Candidates are the notes whose curated text (key table) matches best, plus the notes whose bodies
        best match identifiers from pasted code. Only they get a body score (one MATCH restricted to their
        `nid` tokens): scoring every body that shares a common word with the question would make a big
        corpus slow.
        """
        conn = self._conn
        key_query, body_query = fts_query(terms), fts_query(terms, body=True)
        found: dict[int, tuple[str, float]] = {}
        if key_query:
            for rowid, note_id, score in conn.execute(KEY_SQL, (key_query, candidates)):
                found[rowid] = (note_id, score)
        code_query = fts_query([t for t in terms if t.body_only], body=True)
        if code_query:
            for rowid, note_id, _ in conn.execute(BODY_SQL, (f"{_BODY} : ({code_query})", candidates)):
                found.setdefault(rowid, (note_id, 0.0))
        if len(found) < candidates:
            # Few notes match in their curated text: the bodies alone may still know the term.
            for rowid, note_id, _ in conn.execute(BODY_SQL, (f"{_BODY} : ({body_query})", candidates)):
                found.setdefault(rowid, (note_id, 0.0))
        if not found:
            return {}
        only = " OR ".join(f'"n{rowid}"' for rowid in found)
        rows = conn.execute(BODY_SQL, (f"{_BODY} : ({body_query}) AND nid : ({only})", len(found))).fetchall()
        body = {rowid: score for rowid, _, score in rows}
        return {note_id: score + BODY_FACTOR * body.get(rowid, 0.0) for rowid, (note_id, score) in found.items()}

    def get(self, note_id: str) -> Note | None:
        self._maybe_refresh()
        return self._notes.get(note_id)

    def notes(self) -> list[Note]:
        self._maybe_refresh()
        return sorted(self._notes.values(), key=lambda n: n.id)

    # -- diagnostics ---------------------------------------------------------------------------------

    def terms(self, query: str) -> list[Term]:
        return build_terms(query, self._vocab, prefix_min=PREFIX_MIN)

    def fts_query(self, query: str) -> str:
        return fts_query(self.terms(query))

    def refresh(self) -> bool:
        """Re-read the note folders now; rebuilds (or reuses a stored index) when the content changed."""
        with self._lock:
            signature = _signature(self._dirs)
            self._checked_at = time.monotonic()
            if signature == self._signature:
                return False
            sources = read_sources(self._dirs)
            if content_hash(sources) == self.hash:
                self._signature = signature
                return False
            self._load(sources, signature)
            return True

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- loading and building ----------------------------------------------------------------------------

    def _maybe_refresh(self) -> None:
        if self._refresh_interval is None or not self._dirs:
            return
        if time.monotonic() - self._checked_at >= self._refresh_interval:
            self.refresh()

    def _set_notes(self, notes: list[Note]) -> None:
        self._notes = {n.id: n for n in notes}
        self._vocab = Vocabulary.build(
            key_texts=[t for n in notes for t in (n.title, n.id.replace("-", " "), *n.tags, *n.aliases)],
            aliases=[a for n in notes for a in (*n.aliases, n.title)],
            all_texts=[t for n in notes for t in _note_columns(n)],
            spell_texts=[t for n in notes for t in (n.title, *n.tags, *n.aliases, n.summary)],
        )

    def _load(self, sources: list[SourceFile] | None = None, signature: tuple | None = None) -> None:
        with self._lock:
            if signature is None:
                signature = _signature(self._dirs)
            if sources is None:
                sources = read_sources(self._dirs)
            digest = content_hash(sources)
            old = self._conn
            self._conn, self.index_path = self._open_or_build(digest, sources)
            self.hash, self._signature, self._checked_at = digest, signature, time.monotonic()
            if old is not None:
                old.close()

    def _open_or_build(self, digest: str, sources: list[SourceFile]) -> tuple[sqlite3.Connection, Path | None]:
        """The index for these sources: an existing file (whose snapshot also gives the parsed notes), or a new one
        built from freshly parsed notes."""
        parsed = False
        if self._data_dir is not None:
            path = self._data_dir / f"knowledge-index-{digest[:16]}.sqlite3"
            try:
                conn = self._open_existing(path, digest)
                if conn is None:
                    self._set_notes(notes_from_sources(sources))
                    parsed = True
                    conn = self._build_file(path, digest, sources)
                _prune(self._data_dir, keep=path)
                return conn, path
            except (OSError, sqlite3.Error) as exc:
                log.warning("knowledge index not persisted; using an in-memory index",
                            extra={"data_dir": str(self._data_dir), "error": str(exc)})
        if not parsed:
            self._set_notes(notes_from_sources(sources))
        return self._build(sqlite3.connect(":memory:", check_same_thread=False), digest), None

    def _open_existing(self, path: Path, digest: str) -> sqlite3.Connection | None:
        if not path.is_file():
            return None
        try:
            conn = _connect_ro(path)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            count = conn.execute("SELECT count(*) FROM notes_key").fetchone()[0]
        except sqlite3.Error:
            return None
        try:
            if meta.get("hash") != digest or meta.get("version") != INDEX_VERSION:
                raise ValueError("another index")
            notes, vocabulary = snapshot.load(meta["snapshot"], self._dirs)
            if count != len(notes):
                raise ValueError("the snapshot does not match the indexed notes")
        except (ValueError, KeyError, TypeError, IndexError):  # another version, or a damaged file: rebuild it
            conn.close()
            return None
        self._notes, self._vocab = {n.id: n for n in notes}, vocabulary
        try:
            os.utime(path)  # recency for pruning
        except OSError:
            pass
        return conn

    def _build_file(self, path: Path, digest: str, sources: list[SourceFile]) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            conn = self._build(sqlite3.connect(tmp), digest, sources)
            conn.close()
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return _connect_ro(path)

    def _build(self, conn: sqlite3.Connection, digest: str, sources: list[SourceFile] | None = None) \
            -> sqlite3.Connection:
        started = time.perf_counter()
        nkey = len(KEY_COLUMNS)
        rows = [(n.id, *_note_columns(n)) for n in self._notes.values()]
        with conn:
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            rows = [(rowid, *row) for rowid, row in enumerate(rows, 1)]
            for table, columns, values in (
                ("notes_key", KEY_COLUMNS, [r[: 2 + nkey] for r in rows]),
                ("notes_body", (*BODY_COLUMNS, "nid"), [(r[0], r[1], *r[2 + nkey:], f"n{r[0]}") for r in rows]),
            ):
                names = ", ".join(columns)
                conn.execute(f"CREATE VIRTUAL TABLE {table} USING fts5(note_id UNINDEXED, {names}, tokenize='{TOKENIZER}')")
                conn.executemany(
                    f"INSERT INTO {table} (rowid, note_id, {names}) VALUES (?, ?, {', '.join('?' for _ in columns)})", values
                )
                conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("hash", digest), ("version", INDEX_VERSION), ("notes", str(len(self._notes))), ("built_at", str(time.time()))],
            )
            if sources is not None:  # a file other starts will open: they take the parsed notes from here
                conn.execute("INSERT INTO meta (key, value) VALUES ('snapshot', ?)",
                             (snapshot.dump(list(self._notes.values()), self._vocab, sources),))
        self.builds += 1
        log.info("knowledge index built", extra={"notes": len(self._notes), "ms": round((time.perf_counter() - started) * 1000, 1)})
        return conn


def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile by another process
        return 0.0


def _prune(data_dir: Path, keep: Path) -> None:
    """Delete all but the most recently used index files (another process may still use an older one)."""
    files = sorted(data_dir.glob("knowledge-index-*.sqlite3"), key=_mtime, reverse=True)
    for stale in [f for f in files if f != keep][KEEP_INDEX_FILES - 1:]:
        try:
            stale.unlink()
        except OSError:
            pass
