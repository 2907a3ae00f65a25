"""A web page on its own loopback origin that embeds one of Cronofy's UI Elements (the real `cronofy-elements`
package from npm, served from tests/e2e/elements/node_modules) pointed at a Horae server, and keeps every
notification the Element sends to its callback in `window.notifications`."""

from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ELEMENTS_JS = Path(__file__).parent / "elements" / "node_modules" / "cronofy-elements" / "dist" / "CronofyElements.js"
SCRIPT_PATH = "/CronofyElements.js"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font-family: system-ui, sans-serif; margin: 0; padding: 16px; color: #1d2430; background: #fff; }}
  h1 {{ font-size: 18px; margin: 0 0 12px; font-weight: 600; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div id="element"></div>
<script src="{script}"></script>
<script>
  window.notifications = [];
  const options = {options};
  options.target_id = "element";
  options.callback = (notification) => window.notifications.push(notification);
  window.element = CronofyElements[{name}](options);
</script>
</body>
</html>
"""


def page_html(element: str, title: str, options: dict[str, Any]) -> bytes:
    """A page mounting `CronofyElements.<element>(options)` in #element, with a recording callback."""
    # `</` cannot close the script early once escaped; json.dumps keeps the rest valid JavaScript.
    encoded = json.dumps(options).replace("</", "<\\/")
    text = PAGE.format(title=html.escape(title), script=SCRIPT_PATH, options=encoded, name=json.dumps(element))
    return text.encode()


class ElementsSite:
    """A loopback HTTP server (its own origin) serving the Elements bundle and the pages put on it."""

    def __init__(self) -> None:
        if not ELEMENTS_JS.exists():
            raise FileNotFoundError(f"{ELEMENTS_JS} is missing: run `npm ci` in tests/e2e/elements")
        self.pages: dict[str, bytes] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == SCRIPT_PATH:
                    self._send(ELEMENTS_JS.read_bytes(), "text/javascript; charset=utf-8")
                elif path in site.pages:
                    self._send(site.pages[path], "text/html; charset=utf-8")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="elements-site", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def put(self, path: str, element: str, title: str, options: dict[str, Any]) -> str:
        """Serve a page embedding `element` at `path`; returns its URL."""
        self.pages[path] = page_html(element, title, options)
        return self.origin + path

    def start(self) -> ElementsSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
