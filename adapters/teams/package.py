"""The Teams app package (a zip) that `consultant teams package` writes.

The zip holds manifest.json, color.png and outline.png side by side (no folder), with the app id and domain
filled into teams/manifest.json's placeholders. The fields this command writes are validated before the zip is
written; bad arguments exit 2, like any usage error. Imports stay light: no Bot Framework here.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

from bot.errors import ConsultantError

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "teams"
ICONS = {"color.png": 192, "outline.png": 32}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_COMMANDS = ("schema-review", "help", "new", "forget")
_SCOPES = ("personal", "team", "groupChat")


class PackageError(ConsultantError):
    """The template cannot make a valid package (exit 1)."""


class UsageError(PackageError):
    """A bad --app-id or --domain (exit 2, like any usage error)."""


def check_guid(value: str, what: str = "--app-id") -> str:
    value = value.strip()
    if not _GUID.match(value):
        raise UsageError(f"{what} must be a GUID like 00000000-0000-0000-0000-000000000000, got {value!r}")
    return value.lower()


def check_domain(value: str) -> str:
    """A bare host name: no scheme, path, port or wildcard, e.g. bot.example.com."""
    host = value.strip().lower().rstrip(".")
    if "://" in host or "/" in host or ":" in host or "*" in host or "@" in host:
        raise UsageError(f"--domain must be a bare host name like bot.example.com (no scheme, port or path), "
                           f"got {value!r}")
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels) \
            or labels[-1].isdigit():
        raise UsageError(f"--domain must be a public DNS name like bot.example.com, got {value!r}")
    return host


def _fill(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        for key, value in values.items():
            node = node.replace("{{" + key + "}}", value)
        return node
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(item, values) for key, item in node.items()}
    return node


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("icon is not a PNG file")
    return struct.unpack(">II", data[16:24])


def validate_manifest(manifest: dict[str, Any], app_id: str, domain: str) -> None:
    """The checks Teams would reject the upload for, on the fields this command fills in and their neighbours."""
    problems: list[str] = []
    text = json.dumps(manifest)
    if "{{" in text:
        problems.append("unfilled placeholders remain: " + ", ".join(sorted(set(re.findall(r"\{\{\w+\}\}", text)))))
    version = re.match(r"^1\.(\d+)$", str(manifest.get("manifestVersion", "")))
    if not version or int(version.group(1)) < 22:
        problems.append("manifestVersion must be 1.22 or later")
    if not re.match(r"^\d+\.\d+\.\d+$", str(manifest.get("version", ""))):
        problems.append("version must be MAJOR.MINOR.PATCH")
    if manifest.get("id") != app_id:
        problems.append("id must be the app id")
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        url = manifest.get("developer", {}).get(key, "")
        if not url.startswith(f"https://{domain}"):
            problems.append(f"developer.{key} must be an https URL on {domain}")
    if len(manifest.get("name", {}).get("short", "")) > 30:
        problems.append("name.short must be at most 30 characters")
    if len(manifest.get("description", {}).get("short", "")) > 80:
        problems.append("description.short must be at most 80 characters")
    if manifest.get("validDomains") != [domain]:
        problems.append(f"validDomains must be [{domain!r}]")
    bots = manifest.get("bots") or [{}]
    bot = bots[0]
    if bot.get("botId") != app_id:
        problems.append("bots[0].botId must be the app id")
    if sorted(bot.get("scopes", [])) != sorted(_SCOPES):
        problems.append("bots[0].scopes must be personal, team and groupChat")
    for scope in _SCOPES:
        titles = {c.get("title") for lst in bot.get("commandLists", []) if scope in lst.get("scopes", [])
                  for c in lst.get("commands", [])}
        if missing := [c for c in _COMMANDS if c not in titles]:
            problems.append(f"commandLists for {scope} lack {', '.join(missing)}")
    for lst in bot.get("commandLists", []):
        for command in lst.get("commands", []):
            if len(command.get("title", "")) > 32 or len(command.get("description", "")) > 128:
                problems.append(f"command {command.get('title')!r}: title <= 32 and description <= 128 characters")
    if manifest.get("icons") != {"color": "color.png", "outline": "outline.png"}:
        problems.append("icons must be color.png and outline.png")
    if problems:
        raise PackageError("invalid manifest: " + "; ".join(problems))


def build_package(app_id: str, domain: str, output: Path, template_dir: Path = TEMPLATE_DIR) -> Path:
    from bot import __version__

    app_id, domain = check_guid(app_id), check_domain(domain)
    try:
        template = json.loads((template_dir / "manifest.json").read_text(encoding="utf-8"))
        icons = {name: (template_dir / name).read_bytes() for name in ICONS}
    except FileNotFoundError as exc:
        raise PackageError(f"the Teams app template is missing: {exc.filename}") from None
    manifest = _fill(template, {"APP_ID": app_id, "DOMAIN": domain, "VERSION": __version__})
    validate_manifest(manifest, app_id, domain)
    for name, size in ICONS.items():
        if png_size(icons[name]) != (size, size):
            raise PackageError(f"{name} must be {size}x{size} pixels")
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for name, data in icons.items():
            zf.writestr(name, data)
    return output
