"""Suppression and configuration.

Inline: `-- consultant: ignore rule-a, rule-b` on a statement's first line or the line before it
(or on the offending column's own line) silences those rules for that statement.

File: `.consultant.toml` (top-level keys, or a `[review]` table) or `[tool.consultant.review]` in
pyproject.toml, found by walking up from the reviewed file's directory:

    disable = ["wide-table", "serial-primary-key"]
    assume_in_transaction = true   # the migration tool wraps each file in a transaction (Django, Rails, Alembic)
    [severity]                 # [tool.consultant.review.severity] in pyproject.toml
    int-primary-key = "info"
"""

from __future__ import annotations

import re
from bot.errors import ConfigError

from .catalog import RULES
from .report import SEVERITIES, Finding

_IGNORE = re.compile(r"--\s*consultant:\s*ignore\b([^\n]*)", re.I)
_RULE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|\*")


class ReviewConfig:
    """Rules to disable and severity overrides (rule id -> error|warning|info)."""

    __slots__ = ("disable", "severity", "path", "assume_in_transaction")

    def __init__(self, disable=(), severity: dict[str, str] | None = None, path: str | None = None,
                 assume_in_transaction: bool = False) -> None:
        self.disable = frozenset(disable)
        self.assume_in_transaction = assume_in_transaction
        self.severity = dict(severity or {})
        self.path = path
        where = f" in {path}" if path else ""
        unknown = sorted((set(self.disable) | set(self.severity)) - set(RULES))
        if unknown:
            raise ConfigError(f"unknown review rule id(s){where}: {', '.join(unknown)}")
        bad = {k: v for k, v in self.severity.items() if v not in SEVERITIES}
        if bad:
            raise ConfigError(f"invalid severity{where} for {', '.join(bad)} (expected error, warning or info)")

    def apply(self, findings: list[Finding]) -> list[Finding]:
        out = []
        for f in findings:
            if f.rule in self.disable:
                continue
            if f.rule in self.severity:
                f.severity = self.severity[f.rule]
            out.append(f)
        return out


def inline_ignores(text: str) -> dict[int, set[str]]:
    """Line number -> rule ids ignored by a comment on that line."""
    if "consultant" not in text:
        return {}
    out: dict[int, set[str]] = {}
    for m in _IGNORE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        rules = set(_RULE_ID.findall(m.group(1).split("--")[0].lower()))
        out.setdefault(line, set()).update(rules or {"*"})
    return out


def is_ignored(f: Finding, ignores: dict[int, set[str]]) -> bool:
    for line in (f.line, f.line - 1, f.aux_line):
        if line is None:
            continue
        rules = ignores.get(line)
        if rules and (f.rule in rules or "*" in rules):
            return True
    return False


def load_config(start: str | None = None) -> ReviewConfig | None:
    """The first .consultant.toml or pyproject.toml with a review section, from `start` upwards."""
    import os

    here = os.path.abspath(start or os.getcwd())
    if os.path.isfile(here):
        here = os.path.dirname(here)
    while True:
        dedicated = os.path.join(here, ".consultant.toml")
        if os.path.isfile(dedicated):
            data = _read_toml(dedicated)
            section = data["review"] if isinstance(data.get("review"), dict) else data
            return _from_section(section, dedicated)
        pyproject = os.path.join(here, "pyproject.toml")
        if os.path.isfile(pyproject):
            try:
                with open(pyproject, encoding="utf-8") as fh:
                    raw = fh.read()
            except OSError:
                raw = ""
            if "tool.consultant" in raw:  # cheap test, avoids importing tomllib on every run
                data = _read_toml(pyproject, raw)
                section = data.get("tool", {}).get("consultant", {}).get("review")
                if isinstance(section, dict):
                    return _from_section(section, pyproject)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _read_toml(path: str, raw: str | None = None) -> dict:
    import tomllib

    try:
        if raw is None:
            with open(path, encoding="utf-8") as fh:
                raw = fh.read()
        return tomllib.loads(raw)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


def _from_section(section: dict, path: str) -> ReviewConfig:
    disable = section.get("disable", [])
    severity = section.get("severity", {})
    if not isinstance(disable, list) or not all(isinstance(x, str) for x in disable):
        raise ConfigError(f"{path}: 'disable' must be a list of rule ids")
    if not isinstance(severity, dict):
        raise ConfigError(f"{path}: 'severity' must be a table of rule id = severity")
    assume = section.get("assume_in_transaction", False)
    if not isinstance(assume, bool):
        raise ConfigError(f"{path}: 'assume_in_transaction' must be true or false")
    return ReviewConfig(disable, {str(k): str(v) for k, v in severity.items()}, path, assume)
