"""Which serviceUrls the bot may POST replies to (the SSRF guard).

The check is made on the URL the connector's HTTP client (requests/urllib3) will actually use, not on what
`urlsplit` alone sees: `http://evil:1\\@127.0.0.1/` looks like loopback to urlsplit but urllib3 connects to
`evil`. So a URL is refused when the two parsers disagree, when it has a backslash, whitespace or control
characters, userinfo, or a scheme other than http(s). In dev mode (no token checks) the host must also resolve
only to loopback addresses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from urllib3.util import parse_url

Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT = 2.0


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (as the connector's socket.create_connection would)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def _is_loopback_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def shape_problem(url: str | None) -> str | None:
    """Why this serviceUrl can never be used, or None when its shape is acceptable."""
    if not url:
        return "serviceUrl is missing"
    if "\\" in url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "serviceUrl contains a backslash, whitespace or a control character"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
        client_view = parse_url(url)
    except ValueError:
        return "serviceUrl is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "serviceUrl must be http or https"
    if "@" in parts.netloc or client_view.auth:
        return "serviceUrl must not contain userinfo"
    if not host:
        return "serviceUrl has no host"
    if (client_view.host or "").strip("[]").lower() != host.lower():
        return "serviceUrl is ambiguous (parsers disagree on its host)"
    return None


async def service_url_problem(url: str | None, *, loopback_only: bool,
                              resolve: Resolver = resolve_host) -> str | None:
    """None when replies may be POSTed to url; otherwise the reason to refuse it (answered with 403)."""
    if problem := shape_problem(url):
        return problem
    if not loopback_only:
        return None
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        addresses = await asyncio.wait_for(resolve(host, port), RESOLVE_TIMEOUT)
    except (OSError, asyncio.TimeoutError, UnicodeError):
        return "serviceUrl host does not resolve"
    if not addresses or not all(_is_loopback_address(a) for a in addresses):
        return "serviceUrl does not resolve to loopback only"
    return None


def is_loopback_url(url: str | None) -> bool:
    """Literal loopback hosts only (127.0.0.0/8, ::1, localhost), with an acceptable shape; no DNS lookup."""
    if shape_problem(url):
        return False
    host = urlsplit(url or "").hostname or ""
    return host.lower() == "localhost" or _is_loopback_address(host)
