"""Secret masking, applied before any text is stored or sent to the LLM."""

from __future__ import annotations

import re

MASK = "[REDACTED]"

# Order matters: whole PEM blocks first, then URLs, then token shapes, then key=value assignments.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S),
     "[REDACTED PRIVATE KEY]"),
    # scheme://user:password@host -> keep the user and host, hide the password.
    (re.compile(r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?P<post>@)"),
     r"\g<pre>" + MASK + r"\g<post>"),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), MASK),
    (re.compile(r"(?i)(?P<pre>\baws_?secret_?(?:access_?)?key\b[\"']?\s*[:=]\s*[\"']?)(?P<secret>[A-Za-z0-9/+=]{40})"),
     r"\g<pre>" + MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"), MASK),
    (re.compile(r"\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{16,}"), MASK),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b"), MASK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"), MASK),
    (re.compile(r"(?i)(?P<pre>\bbearer\s+)(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)"), r"\g<pre>" + MASK),
    # password=..., secret: "...", api_key = '...', PGPASSWORD=..., client_secret=...
    (re.compile(
        r"(?i)(?P<pre>\b[\w.-]*(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)[\"']?\s*[:=]\s*)"
        r"(?P<q>[\"']?)(?P<secret>(?!\[REDACTED)[^\s\"',;&]+)(?P=q)"),
     r"\g<pre>\g<q>" + MASK + r"\g<q>"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
