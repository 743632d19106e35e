"""The sandbox's web server: the built web app plus a uiConfig.json with local endpoints."""

from __future__ import annotations

import errno
import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sandbox.server import PortInUseError, host_refused, is_loopback_host

NOT_BUILT = b"""<!doctype html><meta charset="utf-8"><title>multi-region-app sandbox</title>
<h1>The sandbox is running</h1><p>The web app is not built yet: run <code>make setup</code>
(or <code>cd webapp && npm ci && npm run build</code>) and restart <code>make demo</code>.
<p><a href="/uiConfig.json">uiConfig.json</a></p>"""


class WebServer:
    """Serves `dist_dir` (SPA: unknown paths get index.html) and `/uiConfig.json`."""

    def __init__(self, dist_dir: Path, ui_config: dict[str, Any], host: str = "127.0.0.1", port: int = 8080):
        self.dist_dir = dist_dir.resolve()
        self.set_ui_config(ui_config)
        try:
            self.server = ThreadingHTTPServer((host, port), self._handler())
        except OSError as error:
            reason = "is already in use: stop the other process or choose another port (--port)"
            if error.errno != errno.EADDRINUSE:
                reason = f"cannot be opened: {error.strerror}"
            raise PortInUseError(f"port {port} on {host} (web app) {reason}") from None
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="sandbox-web", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def set_ui_config(self, ui_config: dict[str, Any]) -> None:
        self.ui_config = json.dumps(ui_config, indent=2).encode()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet: the demo prints its own lines
                pass

            def do_GET(self) -> None:  # noqa: N802
                if not is_loopback_host(self.headers.get("Host")):  # DNS rebinding
                    status, headers, body = host_refused(self.headers.get("Host"))
                    return self._send(int(status.split()[0]), body, "application/json", "no-store")
                path = unquote(urlsplit(self.path).path)
                if path == "/uiConfig.json":
                    return self._send(200, web.ui_config, "application/json", "no-cache, no-store, must-revalidate")
                index = web.dist_dir / "index.html"
                if not index.exists():
                    return self._send(200, NOT_BUILT, "text/html; charset=utf-8", "no-cache")
                target = (web.dist_dir / path.lstrip("/")).resolve()
                if web.dist_dir not in target.parents and target != web.dist_dir:
                    return self._send(404, b'{"message": "not found"}', "application/json", "no-cache")
                if not target.is_file():
                    target = index  # SPA routing, as CloudFront's error responses do
                content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                cache = "no-cache" if target == index else "public, max-age=3600"
                self._send(200, target.read_bytes(), content_type, cache)

            def _send(self, status: int, body: bytes, content_type: str, cache: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", cache)
                self.end_headers()
                self.wfile.write(body)

        return Handler
