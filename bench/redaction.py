"""Secret masking coverage and speed: bot/redact.py beside detect-secrets 1.5 on the table of tests/secret_formats.py.

    python -m bench.redaction        (detect-secrets is optional: `pip install detect-secrets==1.5.0`)

detect-secrets is scored with its pattern plugins only: its high-entropy plugins, run per line, flag nearly
every word of ordinary prose (see the false-positive column with them on).
"""

from __future__ import annotations

import time

from bot.redact import redact
from tests.secret_formats import ORDINARY_TEXTS, SECRET_FORMATS


def _score(mask) -> tuple[int, int]:  # noqa: ANN001
    caught = sum(1 for _, text, secrets in SECRET_FORMATS if not any(s in mask(text) for s in secrets))
    false_positives = sum(1 for text in ORDINARY_TEXTS if mask(text) != text)
    return caught, false_positives


def _detect_secrets_mask(with_entropy: bool):  # noqa: ANN202
    from detect_secrets.core.scan import scan_line

    def mask(text: str) -> str:
        found = {s.secret_value for line in text.splitlines() for s in scan_line(line)
                 if s.secret_value and (with_entropy or "High Entropy" not in s.type)}
        for value in sorted(found, key=len, reverse=True):
            text = text.replace(value, "[REDACTED]")
        return text

    return mask


def _per_message_us(mask, rounds: int = 20) -> float:  # noqa: ANN001
    texts = [text for _, text, _ in SECRET_FORMATS] + ORDINARY_TEXTS
    began = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            mask(text)
    return (time.perf_counter() - began) / (rounds * len(texts)) * 1e6


def main() -> None:
    print(f"{len(SECRET_FORMATS)} secret formats, {len(ORDINARY_TEXTS)} ordinary texts")
    print(f"{'masker':40} {'masked':>8} {'false +':>8} {'us/msg':>9}")
    rows = [("bot.redact", redact)]
    try:
        from detect_secrets.settings import default_settings

        with default_settings():
            rows += [("detect-secrets 1.5 (patterns)", _detect_secrets_mask(False)),
                     ("detect-secrets 1.5 (patterns + entropy)", _detect_secrets_mask(True))]
            _print(rows)
    except ImportError:
        print("(detect-secrets not installed: only bot.redact is measured)")
        _print(rows)


def _print(rows) -> None:  # noqa: ANN001
    for name, mask in rows:
        caught, false_positives = _score(mask)
        print(f"{name:40} {caught:>5}/{len(SECRET_FORMATS)} {false_positives:>5}/{len(ORDINARY_TEXTS)} "
              f"{_per_message_us(mask):>9.1f}")


if __name__ == "__main__":
    main()
