"""Secret masking, applied before any text is stored, sent to the LLM or turned into case facts.

Masks keep the shape the consultant reasons about: a DSN stays a DSN (`postgres://app:[REDACTED]@db/prod`),
a token becomes `[REDACTED slack-token]`, an assignment keeps its key (`password=[REDACTED]`).
Own patterns rather than detect-secrets: its plugins work line by line on whole values and miss DSN passwords
with `@`/`/`, Azure SAS signatures, Slack webhooks and key names in prose, which the table test covers.
"""

from __future__ import annotations

from typing import Any

import re

MASK = "[REDACTED]"


def _label(kind: str) -> str:
    return f"[REDACTED {kind}]"


# Values that look like an assignment but are placeholders, not secrets: left alone so prose reads naturally.
_NOT_A_SECRET = r"(?!\[REDACTED|\$\{|\$\d|<[a-z_ -]+>|\*{3,}|null\b|none\b|true\b|false\b)"

# Key names whose value is a secret, in any casing, with any prefix (DB_PASSWORD, x-api-key, client_secret).
_SECRET_KEY = (
    r"(?:[\w.-]{0,64}(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|account[_-]?key|shared[_-]?access[_-]?key|credentials?|auth[_-]?key)"
    r"|pwd|pass|sig|signature|sharedaccesssignature)"
)

# Order matters: whole PEM blocks and self-describing tokens first, then URLs, then assignments.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
                r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|(?=```)|\Z)", re.S),
     _label("private-key")),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,2048}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), _label("jwt")),
    (re.compile(r"\bhttps://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"),
     "https://hooks.slack.com/" + _label("slack-webhook")),
    (re.compile(r"\bhttps://(?:[a-z]+\.)?discord(?:app)?\.com/api/webhooks/[A-Za-z0-9/_-]+"),
     "https://discord.com/api/webhooks/" + _label("discord-webhook")),
    # scheme://user:password@host: the password runs to the LAST @ before the host, so it may hold @ / : too.
    (re.compile(r"(?P<pre>(?<![a-zA-Z0-9+.\-])[a-zA-Z][a-zA-Z0-9+.\-]{0,30}://[^\s:/@?#\"'<>`]{0,256}:)"
                r"(?!\[REDACTED)(?P<secret>[^\s\"'<>`]{1,256})(?P<post>@[^\s@/?#\"'<>`]{1,255})"),
     r"\g<pre>" + MASK + r"\g<post>"),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b"), _label("aws-access-key-id")),
    (re.compile(r"\bxox[abeoprs](?:\.xox[a-z])?-[A-Za-z0-9-]{8,}"), _label("slack-token")),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"), _label("slack-app-token")),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}"), _label("anthropic-key")),
    (re.compile(r"\bsk-(?:proj-|svcacct-|admin-|live-|test-)?[A-Za-z0-9_\-]{16,}"), _label("openai-key")),
    (re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"), _label("stripe-key")),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{16,}"), _label("stripe-webhook-secret")),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b"), _label("github-token")),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"), _label("github-token")),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), _label("gitlab-token")),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), _label("google-api-key")),
    (re.compile(r"\bGOCSPX-[0-9A-Za-z_-]{20,}"), _label("google-oauth-secret")),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), _label("sendgrid-key")),
    (re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), _label("npm-token")),
    (re.compile(r"\bpypi-[A-Za-z0-9_-]{50,}"), _label("pypi-token")),
    (re.compile(r"\bSK[0-9a-f]{32}\b"), _label("twilio-api-key")),
    (re.compile(r"\bAC[0-9a-f]{32}\b"), _label("twilio-account-sid")),
    (re.compile(r"(?i)(?P<pre>\bauthorization\s*:\s*basic\s+)[A-Za-z0-9+/]{6,}={0,2}"), r"\g<pre>" + MASK),
    # A bearer credential carries a digit; "bearer tokens" in prose does not.
    (re.compile(r"(?i)(?P<pre>\bbearer\s+)(?=[A-Za-z0-9\-._~+/]*\d)[A-Za-z0-9\-._~+/]{8,}=*"), r"\g<pre>" + MASK),
    # AWS secret keys under any of their key names, also separated by a space (`export AWS_SECRET_ACCESS_KEY x`).
    (re.compile(r"(?i)(?P<pre>\b(?:aws_?)?secret_?(?:access_?)?key(?:_?id)?[\"']?(?:\s*[:=]\s*|\s+)[\"']?)"
                r"(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
     r"\g<pre>" + _label("aws-secret-key")),
    # password=..., "secret": "...", api_key = '...', ?token=...&sig=..., Password=...; (quoted values may hold spaces)
    (re.compile(
        rf"(?i)(?P<pre>(?<![\w.-]){_SECRET_KEY}[\"']?\s*(?::|=|=>)\s*)"
        rf"(?:(?P<q>[\"']){_NOT_A_SECRET}[^\"'\n]+(?P=q)|{_NOT_A_SECRET}(?P<bare>[^\s\"',;&<>]+))"),
     lambda m: m.group("pre") + (f"{m.group('q')}{MASK}{m.group('q')}" if m.group("q") else MASK)),
]

_AWS_CONTEXT = re.compile(r"(?i)\b(?:aws|amazon|s3|iam)\b|\[REDACTED aws-access-key-id\]")
# A 40-character base64 word with both cases and a digit: the shape of an AWS secret access key.
_AWS_SECRET_SHAPE = re.compile(
    r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*\d)"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    # Next to an AWS key id, or in AWS talk, a bare 40-character secret-shaped word is the secret key.
    if _AWS_CONTEXT.search(text):
        text = _AWS_SECRET_SHAPE.sub(_label("aws-secret-key"), text)
    return text


def redact_all(value: Any) -> Any:
    """Every string inside a JSON-like value masked (platform payloads repeat the text in attachments and blocks)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_all(v) for v in value]
    return value
