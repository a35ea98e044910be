"""What `consultant explain` and `consultant querylog` share: arguments, reading inputs, text output, exit codes.

Exit codes, as for `consultant review`: 0 when no finding is at or above --fail-on, 1 when one is or an input cannot
be read (reported on one line), 2 for usage errors (bad arguments, a missing file). Nothing heavy is imported here.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable

from adapters.cli_input import Usage, read_bytes

FORMATS = ("text", "json")
FAIL_ON = ("error", "warning", "info", "never")
RANK = {"error": 0, "warning": 1, "info": 2}


def add_arguments(p, what: str) -> None:  # noqa: ANN001 - an argparse parser
    p.add_argument("paths", nargs="+", metavar="FILE", help=f"{what} files, or - for standard input")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--fail-on", choices=FAIL_ON, default="error",
                   help="exit 1 when a finding at or above this severity exists (default: error)")


def read_input(path: str, max_bytes: int) -> str:
    """The file's text; Usage for a missing file, InputError (exit 1) for binary, oversized or unreadable data."""
    from bot.errors import ConsultantError

    label = "standard input" if path == "-" else path
    data = read_bytes(path, max_bytes)
    if len(data) > max_bytes:
        raise ConsultantError(f"{label} is over {max_bytes // (1024 * 1024)} MB; pass a smaller excerpt")
    if b"\x00" in data[:8192]:
        raise ConsultantError(f"{label} looks like binary data, not text")
    return data.decode("utf-8-sig", errors="replace")


def finding_lines(findings: list[dict[str, Any]]) -> list[str]:
    out = []
    for f in findings:
        where = ".".join(str(p) for p in (f.get("table"), f.get("column")) if p) or str(f.get("object") or "")
        line = f"  line {f['line']}" if f.get("line") else ""
        out.append(f"  {f['severity']:<7} {f['rule']}{line}  {where}".rstrip())
        out.append(f"          {f['message']}")
        out.append("          why: " + f["why"])
        out.append("          fix:")
        out.extend("            " + x for x in str(f["fix"]).splitlines())
    return out


def at_or_above(findings: list[dict[str, Any]], level: str) -> bool:
    if level == "never":
        return False
    return any(RANK.get(f["severity"], 3) <= RANK[level] for f in findings)


def write(out: str) -> None:
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # `consultant explain ... | head`: the reader left, the exit code still counts
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run_command(args, name: str, max_bytes: int,  # noqa: ANN001 - argparse namespace
                analyse: Callable[[str], tuple[dict[str, Any], list[str]]]) -> int:
    """Read every FILE, analyse it, print text or JSON lines; the exit code as documented above."""
    from bot.errors import ConsultantError

    try:
        texts = []
        for path in args.paths:
            try:
                texts.append((path, read_input(path, max_bytes), None))
            except ConsultantError as exc:
                texts.append((path, "", str(exc)))
    except Usage as exc:
        print(f"consultant {name}: error: {exc}", file=sys.stderr)
        return 2
    failed = False
    chunks = []
    for path, text, problem in texts:
        if problem:
            result = {"findings": [], "hotspots": [], "summary": {}, "errors": [problem]}
            text_out = [f"{path}: {problem}"]
        else:
            result, text_out = analyse(text)
            text_out[0] = f"{'<stdin>' if path == '-' else path}: {text_out[0]}"
        failed = failed or bool(result["errors"]) or at_or_above(result["findings"], args.fail_on)
        chunks.append(json.dumps(result, ensure_ascii=False) if args.format == "json" else "\n".join(text_out))
    write("\n".join(chunks) + "\n" if args.format == "json" else "\n\n".join(chunks).rstrip() + "\n")
    return 1 if failed else 0
