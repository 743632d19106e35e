"""HTTP servers for the local cloud: threaded werkzeug servers on sockets bound up front.

Every port is bound before any server starts, so a port in use fails the whole start with
one clear `PortInUseError` (werkzeug's own binding would print and `sys.exit(1)`).
"""

from __future__ import annotations

import errno
import ipaddress
import json
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
LISTEN_BACKLOG = 128
LOOPBACK_NAMES = ("127.0.0.1", "localhost")  # and [::1]


class PortInUseError(RuntimeError):
    """A port the sandbox needs is taken; the message is one line naming it."""


class QuietRequestHandler(MotoRequestHandler):
    """moto's handler (keeps S3 metadata headers with underscores) without an access-log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def check_loopback(host: str) -> None:
    """The sandbox serves fake credentials: it listens on the loopback interface only."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"host: the sandbox listens on loopback only (127.0.0.1, ::1, localhost), got {host!r}")


def is_loopback_host(host_header: str | None) -> bool:
    """True for a Host header naming the loopback interface (127.0.0.1, localhost, [::1]) with any port.

    Anything else is refused on every port: a page on another site that gets its name resolved to
    127.0.0.1 (DNS rebinding) sends its own name as Host."""
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name == "::1" and (not rest or _is_port_suffix(rest))
    name, _, port = host.partition(":")
    return name in LOOPBACK_NAMES and (not port or port.isdigit())


def _is_port_suffix(text: str) -> bool:
    return text.startswith(":") and text[1:].isdigit()


def host_refused(host_header: str | None) -> tuple[str, list[tuple[str, str]], bytes]:
    """403 JSON for a request whose Host is not a loopback name."""
    body = json.dumps({"message": f"Host {host_header!r} is not a loopback name (127.0.0.1, localhost, [::1]): "
                                  "refused (DNS rebinding protection)"}).encode()
    return "403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


def bind(host: str, port: int, purpose: str) -> socket.socket:
    """A listening socket on host:port (0 = any free port), or PortInUseError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # lets a restart reuse a TIME_WAIT port
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"port {port} on {host} ({purpose}) is already in use: stop the other process or choose another port"
            ) from None
        raise PortInUseError(f"cannot listen on {host}:{port} ({purpose}): {error.strerror}") from None
    return sock


class HttpServer:
    """One threaded WSGI server on an already bound socket, served from a daemon thread."""

    def __init__(self, sock: socket.socket, app: WsgiApp, name: str):
        host, port = sock.getsockname()[:2]
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietRequestHandler, fd=sock.fileno()
        )
        sock.close()  # werkzeug holds a duplicate of the descriptor
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=name, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server_close()
