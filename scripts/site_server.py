"""Serve a built site on 127.0.0.1 like a static host: text compressed with gzip.

GitHub Pages (and most static hosts) send HTML, CSS, JavaScript, JSON, SVG and Python sources
gzip-compressed to browsers that accept it; images, fonts and wasm as they are. Measurements of
what a reader downloads (``scripts/lighthouse.py``, the first-view budget test in
``tests/browser/test_page_weight.py``) use this server so that they count what a real host sends.
"""
from __future__ import annotations

import functools
import gzip
import http.server
import io
import os
import threading
from pathlib import Path

#: Types a static host compresses.
COMPRESSED = (".html", ".css", ".js", ".mjs", ".json", ".svg", ".py", ".txt", ".xml", ".map")


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files from ``directory``; compressible ones gzipped when the client accepts it."""

    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".wasm": "application/wasm", ".js": "text/javascript",
                             ".mjs": "text/javascript", ".data": "application/octet-stream",
                             ".webp": "image/webp"})

    def send_head(self):  # noqa: D102 - same contract as the base class
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            index = os.path.join(path, "index.html")
            if not self.path.split("?", 1)[0].endswith("/") or not os.path.exists(index):
                return super().send_head()
            path = index
        if (not path.endswith(COMPRESSED) or "gzip" not in self.headers.get("Accept-Encoding", "")
                or not os.path.isfile(path)):
            return super().send_head()
        body = gzip.compress(Path(path).read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args) -> None:  # keep the console readable
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the browser cancelled a download
            pass


def serve(site: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """Serve ``site`` on 127.0.0.1 (``port`` 0: a free one) in a daemon thread."""
    handler = functools.partial(GzipHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
