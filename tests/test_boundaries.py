"""The core stays platform-neutral: bot/ imports no adapter and no chat SDK."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("adapters", "slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiohttp.web")
ROOT = Path(__file__).resolve().parents[1]


def test_bot_imports_no_adapter_or_chat_sdk():
    offenders = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {name}")
    assert offenders == []


def test_the_check_itself_catches_an_offending_import(tmp_path):
    # Guard against a vacuous scan: the same walk must flag a known-bad file.
    bad = tmp_path / "bad.py"
    bad.write_text("from slack_bolt.async_app import AsyncApp\n")
    tree = ast.parse(bad.read_text())
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert any(m.startswith("slack_bolt") for m in modules)


def test_bot_modules_stay_small():
    big = [f"{p.relative_to(ROOT)}: {n}" for p in (ROOT / "bot").rglob("*.py")
           if (n := len(p.read_text().splitlines())) > 450]
    assert big == []
