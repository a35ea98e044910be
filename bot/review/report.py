"""Findings and the review report, with the JSON shape other parts of the product rely on."""

from __future__ import annotations

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}

FINDING_FIELDS = ("rule", "severity", "table", "column", "object", "line", "message", "why", "fix", "note")


class Finding:
    __slots__ = FINDING_FIELDS + ("source", "aux_line", "aux_loc")

    def __init__(self, rule: str, severity: str, table: str | None, column: str | None, object: str | None,
                 line: int, message: str, why: str, fix: str, note: str, source: int = 1,
                 aux_line: int | None = None, aux_loc: int = -1) -> None:
        self.rule = rule
        self.severity = severity
        self.table = table
        self.column = column
        self.object = object
        self.line = line
        self.message = message
        self.why = why
        self.fix = fix
        self.note = note
        self.source = source  # which input it belongs to (0 is --schema)
        self.aux_line = aux_line  # the column/constraint's own line, also honoured by inline suppression
        self.aux_loc = aux_loc  # its byte offset; turned into aux_line only when the input has ignore comments

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "table": self.table,
            "column": self.column,
            "object": self.object,
            "line": self.line,
            "message": self.message,
            "why": self.why,
            "fix": self.fix,
            "note": self.note,
        }

    def sort_key(self) -> tuple:
        return (self.line, SEVERITY_RANK.get(self.severity, 3), self.rule, self.table or "", self.column or "")

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Finding {self.rule} {self.table}.{self.column} line {self.line}>"


PARSE_ERROR = "parse-error"  # the result id of an unparsed statement in text, SARIF and GitHub output
EMPTY_MESSAGE = "no SQL statements found: the input is empty or only comments, so nothing was reviewed"


class ReviewReport:
    """The result of reviewing one input. `to_dict()` is the `--format json` object.

    `errors` are the (line, message) pairs of what could not be read: statements that do not parse,
    or an input without any statement. Each counts as an error-level item, so unread input never passes.
    """

    def __init__(self, dialect: str, statements: int, errors: list[tuple[int, str]], findings: list[Finding],
                 pg_version: int | None = None, path: str | None = None, detected: str | None = None,
                 assume_in_transaction: bool = False) -> None:
        self.dialect = dialect
        self.statements = statements
        self.errors = errors
        self.findings = findings
        self.pg_version = pg_version
        self.path = path
        self.detected = detected  # why this dialect was chosen, when it was inferred from the input
        self.assume_in_transaction = assume_in_transaction
        self.suggested: str | None = None  # a dialect that read some of the unparsed statements

    @property
    def unparsed(self) -> int:
        return len(self.errors)

    @property
    def empty(self) -> bool:
        return self.statements == 0

    @property
    def summary(self) -> dict[str, int]:
        counts = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        counts["error"] += self.unparsed
        counts["unparsed"] = self.unparsed
        return counts

    def at_or_above(self, threshold: str) -> bool:
        if threshold == "never":
            return False
        if self.errors:
            return True  # unread input is an error, and every threshold but never includes errors
        limit = SEVERITY_RANK[threshold]
        return any(SEVERITY_RANK.get(f.severity, 3) <= limit for f in self.findings)

    def by_severity(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (SEVERITY_RANK.get(f.severity, 3), f.line, f.rule))

    def to_dict(self) -> dict:
        return {
            "dialect": self.dialect,
            "statements": self.statements,
            "errors": [{"line": line, "message": message} for line, message in self.errors],
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.summary,
            "detected": self.detected,
            "assume_in_transaction": self.assume_in_transaction,
        }
