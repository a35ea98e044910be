"""A local stand-in for login.microsoftonline.com, reached the way production reaches the real one.

MSAL only talks HTTPS to the authority botframework gives it (https://login.microsoftonline.com/botframework.com),
so nothing in the bot is pointed anywhere else: the tests set HTTPS_PROXY to `LoginProxy`, which answers CONNECT
for login.microsoftonline.com:443 by piping to `LoginServer` (real TLS, with a certificate for that host name that
REQUESTS_CA_BUNDLE makes trusted), and refuses every other host. The server answers the tenant's OpenID
configuration, the instance discovery (host aliases) and the client-credentials token request like Azure AD does,
and records the token requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOGIN_HOST = "login.microsoftonline.com"


def write_certificate(directory: Path, host: str = LOGIN_HOST) -> tuple[Path, Path]:
    """A self-signed certificate for `host` (its own CA, so a CA bundle holding it trusts it); returns cert, key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "login.pem", directory / "login.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class LoginServer:
    cert: Path
    key: Path
    expires_in: int = 3599
    refuse: bool = False  # answer token requests as Azure AD answers a wrong client secret
    token_requests: list[dict[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> LoginServer:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/common/discovery/instance", self._instance_discovery)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        base = f"https://{LOGIN_HOST}/{request.match_info['tenant']}"
        return web.json_response({"issuer": f"https://sts.windows.net/{request.match_info['tenant']}/",
                                  "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                  "token_endpoint": f"{base}/oauth2/v2.0/token"})

    async def _instance_discovery(self, request: web.Request) -> web.Response:
        # MSAL asks which host names share a token cache (remove_tokens_for_client clears them all).
        return web.json_response({"api-version": "1.1", "metadata": [
            {"preferred_network": LOGIN_HOST, "preferred_cache": "login.windows.net",
             "aliases": [LOGIN_HOST, "login.windows.net", "login.microsoft.com", "sts.windows.net"]}]})

    async def _unknown(self, request: web.Request) -> web.Response:
        self.unknown.append(f"{request.method} {request.path_qs}")
        return web.json_response({"error": "not_found"}, status=404)

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({"tenant": request.match_info["tenant"], **{k: str(v) for k, v in form.items()}})
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if self.refuse:
            return web.json_response({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client "
                                      "secret provided.", "error_codes": [7000215]}, status=401)
        return web.json_response({"token_type": "Bearer", "expires_in": self.expires_in, "ext_expires_in": 3599,
                                  "access_token": f"local-token-{len(self.token_requests)}"})


class LoginProxy:
    """An HTTPS proxy that tunnels CONNECT login.microsoftonline.com:443 to the LoginServer, and nothing else."""

    def __init__(self, login: LoginServer) -> None:
        self.login = login
        self.connects: list[str] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def __aenter__(self) -> LoginProxy:
        self._server = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server:
            self._server.close()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        self.connects.append(target)
        if method != "CONNECT" or target != f"{LOGIN_HOST}:443":
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.login.port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        with contextlib.suppress(asyncio.CancelledError):  # the test ended with the tunnel open
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
