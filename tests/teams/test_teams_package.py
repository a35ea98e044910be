"""`consultant teams package`: the zip Teams accepts (flat manifest.json and icons, ids filled in)."""

from __future__ import annotations

import json
import logging
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from adapters.cli import main
from adapters.teams.package import TEMPLATE_DIR

APP_ID = "C9E8C047-2A74-40A2-B28A-B162D5F5327C"


@pytest.fixture(autouse=True)
def keep_logging():
    """main() configures the root logger for a CLI run; put the test process's logging back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of the 8-bit RGBA, non-interlaced PNGs the icons are."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, color, interlace) == (8, 6, 0)
    raw, stride, pixels, prev = zlib.decompress(idat), width * 4, [], bytearray(width * 4)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG row filters
            a, b = row[i - 4] if i >= 4 else 0, prev[i]
            c = prev[i - 4] if i >= 4 else 0
            p = a + b - c
            pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2,
                    4: min((a, b, c), key=lambda v: (abs(p - v)))}[kind]
            row[i] = (row[i] + pred) & 0xFF
        pixels += [tuple(row[i:i + 4]) for i in range(0, stride, 4)]
        prev = row
    return width, height, pixels


def test_package_writes_a_valid_flat_zip(tmp_path, capsys):
    out = tmp_path / "dist" / "consultant.zip"
    assert main(["teams", "package", "--app-id", APP_ID, "--domain", "Bot.Example.com", "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        color, outline = zf.read("color.png"), zf.read("outline.png")

    assert manifest["$schema"] == "https://developer.microsoft.com/json-schemas/teams/v1.22/MicrosoftTeams.schema.json"
    assert manifest["manifestVersion"] == "1.22"
    for field in ("version", "id", "developer", "name", "description", "icons", "accentColor"):
        assert manifest[field], field
    app_id = APP_ID.lower()
    assert manifest["id"] == app_id and "{{" not in json.dumps(manifest)
    assert manifest["developer"]["websiteUrl"] == "https://bot.example.com/"
    assert manifest["validDomains"] == ["bot.example.com"]
    [bot] = manifest["bots"]
    assert bot["botId"] == app_id and bot["scopes"] == ["personal", "team", "groupChat"]
    for scope in bot["scopes"]:
        titles = [c["title"] for lst in bot["commandLists"] if scope in lst["scopes"] for c in lst["commands"]]
        assert titles == ["schema-review", "help", "new", "forget"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}

    width, height, pixels = decode_png(color)
    assert (width, height) == (192, 192) and all(p[3] == 255 for p in pixels), "full colour, opaque"
    width, height, pixels = decode_png(outline)
    assert (width, height) == (32, 32)
    assert all(p[:3] == (255, 255, 255) for p in pixels if p[3]), "white only"
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels), "on transparent"


@pytest.mark.parametrize("args,message", [
    (["--app-id", "not-a-guid", "--domain", "bot.example.com"], "--app-id must be a GUID"),
    (["--app-id", APP_ID, "--domain", "https://bot.example.com"], "bare host name"),
    (["--app-id", APP_ID, "--domain", "bot.example.com/api/messages"], "bare host name"),
    (["--app-id", APP_ID, "--domain", "bot.example.com:443"], "bare host name"),
    (["--app-id", APP_ID, "--domain", "*.example.com"], "bare host name"),
    (["--app-id", APP_ID, "--domain", "localhost"], "public DNS name"),
    (["--app-id", APP_ID, "--domain", "bad_host.example.com"], "public DNS name"),
    (["--app-id", APP_ID, "--domain", "10.0.0.1"], "public DNS name"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "x.zip"
    assert main(["teams", "package", *args, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_arguments_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["teams", "package", "--domain", "bot.example.com"])
    assert exc.value.code == 2 and "--app-id" in capsys.readouterr().err


def test_the_template_keeps_its_placeholders():
    template = json.loads(Path(TEMPLATE_DIR / "manifest.json").read_text())
    assert template["id"] == template["bots"][0]["botId"] == "{{APP_ID}}"
    assert template["validDomains"] == ["{{DOMAIN}}"]
