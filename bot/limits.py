"""Input screening: oversized, binary or empty messages get a short, actionable reply instead of a crash."""

from __future__ import annotations

import unicodedata


def screen(text: str, max_chars: int) -> str | None:
    """Return a reply explaining the problem, or None when the text is fine to process."""
    if len(text) > max_chars:
        return (f"That message is {len(text):,} characters; the limit is {max_chars:,}. "
                "Send a shorter excerpt (the slow query, the relevant model, the error), or for a whole schema or "
                "migration use `/schema-review` with a `.sql` file or `consultant review FILE`.")
    if not text.strip():
        return "I didn't get any text. Describe the problem, paste the query or DDL, or try `/help`."
    if _looks_binary(text):
        return ("That looks like binary data rather than text, so I can't read it. Paste the SQL, code or error "
                "message as text, or share a `.sql` file for a schema review.")
    return None


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    sample = text[:4096]
    odd = sum(1 for ch in sample if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f"))
    return odd / len(sample) > 0.05


def screen_review(text: str, max_bytes: int) -> str | None:
    """Like screen(), for a schema review: the limit is in bytes of SQL (CONSULTANT_MAX_REVIEW_BYTES)."""
    size = len(text.encode("utf-8", "surrogatepass")) if not text.isascii() else len(text)
    if size > max_bytes:
        return (f"That SQL is {size / 1024:,.0f} KB; a review in chat takes up to {max_bytes / 1024:,.0f} KB. "
                "Review the migration or the tables you are changing rather than the whole dump, or run "
                "`consultant review FILE` (in CI) for a full schema dump.")
    return screen(text, max(max_bytes, len(text)))
