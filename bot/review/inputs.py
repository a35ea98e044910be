"""Input checks shared by the API, the CLI and the chat analyzer: size limit, binary data, decoding."""

from __future__ import annotations

from bot.errors import ConsultantError

MAX_BYTES = 5 * 1024 * 1024


class ReviewInputError(ConsultantError):
    """The input cannot be reviewed (too large, binary, unreadable)."""


class InputTooLarge(ReviewInputError):
    pass


class BinaryInput(ReviewInputError):
    pass


def _too_large(label: str, size: int) -> InputTooLarge:
    return InputTooLarge(f"{label} is {size / 1048576:.1f} MB; the review accepts up to 5 MB of SQL")


def check_text(text: str, label: str = "input") -> str:
    if not isinstance(text, str):
        raise BinaryInput(f"{label} is not text")
    if len(text) > MAX_BYTES or (not text.isascii() and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES):
        raise _too_large(label, len(text.encode("utf-8", "surrogatepass")))
    if "\x00" in text:
        raise BinaryInput(f"{label} looks like binary data (it contains NUL bytes), not SQL text")
    return text


def decode(data: bytes, label: str = "input") -> str:
    if len(data) > MAX_BYTES:
        raise _too_large(label, len(data))
    head = data[:8192]
    if b"\x00" in head or (head and sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 10):
        raise BinaryInput(f"{label} looks like binary data, not SQL text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return check_text(text, label)
