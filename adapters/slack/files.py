"""`.sql` files shared with the bot: looked up (files.info when needed), size-checked and downloaded. `.txt`,
`.json` and `.log` files (query plans, query logs) are read the same way and routed to their analyzer.

Downloads use the file's url_private with the bot token (the `files:read` scope). The token is only ever sent to
Slack's own hosts (or the host of SLACK_API_URL, for proxies and tests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.inbound import is_sql_file

log = logging.getLogger("adapters.slack")
DOWNLOAD_TIMEOUT = 30.0


# Plans and logs come as text or JSON exports; they are routed by content, not reviewed as SQL.
EVIDENCE_SUFFIXES = (".txt", ".json", ".log")
EVIDENCE_FILETYPES = ("text", "json", "log")


def is_evidence_file(file: dict[str, Any]) -> bool:
    name = (file.get("name") or file.get("title") or "").lower()
    return name.endswith(EVIDENCE_SUFFIXES) or (file.get("filetype") or "").lower() in EVIDENCE_FILETYPES


@dataclass
class SqlFile:
    name: str
    text: str
    evidence: bool = False  # a .txt/.json/.log file: a plan or a log, answered by content


@dataclass
class SharedSql:
    files: list[SqlFile]
    problems: list[str]  # one readable line per file that could not be reviewed
    others: list[str]  # names of shared files that are not .sql

    @property
    def evidence(self) -> bool:
        return any(f.evidence for f in self.files)

    @property
    def text(self) -> str:
        if len(self.files) == 1:
            return self.files[0].text
        return "\n\n".join(f"-- file: {f.name}\n{f.text}" for f in self.files)


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _trusted(url: str, api_url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "slack.com" or host.endswith(".slack.com") or host == (urlsplit(api_url).hostname or "").lower()


class SqlFiles:
    def __init__(self, client: AsyncWebClient, *, token: str, api_url: str, max_bytes: int) -> None:
        self.client, self.token, self.api_url, self.max_bytes = client, token, api_url, max_bytes

    def too_big(self, name: str, size: int) -> str:
        return (f"`{name}` is {human_size(size)}; I review `.sql` files up to {human_size(self.max_bytes)}. "
                "Split it, or share just the CREATE/ALTER statements you want reviewed.")

    async def collect(self, shared: list[dict[str, Any]]) -> SharedSql:
        result = SharedSql([], [], [])
        budget = self.max_bytes
        for file in shared:
            if file.get("file_access") == "check_file_info" or not (file.get("url_private") and file.get("name")):
                file = await self._info(file)
                if file is None:
                    result.problems.append("I could not look up a shared file (is the `files:read` scope granted?).")
                    continue
            name = file.get("name") or file.get("title") or file.get("id", "file")
            evidence = is_evidence_file(file) and not is_sql_file(file)
            if not is_sql_file(file) and not evidence:
                result.others.append(name)
                continue
            size = int(file.get("size") or 0)
            if size > budget:
                result.problems.append(self.too_big(name, size) if size > self.max_bytes else
                                       f"`{name}` did not fit: all shared `.sql` files together may be up to "
                                       f"{human_size(self.max_bytes)}.")
                continue
            text, problem = await self._download(file, name, budget)
            if problem:
                result.problems.append(problem)
                continue
            budget -= len(text.encode())
            result.files.append(SqlFile(name, text, evidence))
        return result

    async def _info(self, file: dict[str, Any]) -> dict[str, Any] | None:
        try:
            response = await self.client.files_info(file=file["id"])
        except (SlackApiError, KeyError) as exc:
            log.warning("files.info failed", extra={"file": file.get("id"), "error": str(exc)[:200]})
            return None
        return response.get("file")

    async def _download(self, file: dict[str, Any], name: str, budget: int) -> tuple[str, str | None]:
        url = file.get("url_private_download") or file.get("url_private") or ""
        if not url or not _trusted(url, self.api_url):
            log.warning("refusing to download a file from an unexpected host",
                        extra={"url_host": urlsplit(url).hostname})
            return "", f"I could not download `{name}` from Slack."
        try:
            timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(
                    url, headers={"Authorization": f"Bearer {self.token}"}) as response:
                if response.status != 200 or response.content_type == "text/html":
                    # Slack answers a login page instead of the file when the token lacks files:read.
                    log.warning("file download refused", extra={"status": response.status, "file": file.get("id")})
                    return "", f"I could not download `{name}` (HTTP {response.status}); is `files:read` granted?"
                data = b""
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > budget:
                        break
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("file download failed", extra={"file": file.get("id"), "error": exc.__class__.__name__})
            return "", f"I could not download `{name}` ({exc.__class__.__name__}); please try again."
        if len(data) > budget:
            return "", self.too_big(name, max(len(data), int(file.get("size") or 0)))
        try:
            return data.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return "", f"`{name}` is not UTF-8 text, so I cannot review it."
