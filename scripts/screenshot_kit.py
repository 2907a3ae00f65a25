"""What the screenshot scripts share: a throwaway `horae serve` with demo data, Debian's Chromium kept on
loopback, the two page sizes, and where the PNGs go."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.e2e.processes import HoraeProcess, serve  # noqa: E402

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no name resolves: nothing leaves loopback
]
TIMEOUT_MS = 20_000


def output_dir(description: str) -> Path:
    """The folder named by `--out` (docs/screenshots by default), made if missing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextmanager
def throwaway_server() -> Iterator[tuple[HoraeProcess, Path]]:
    """A `horae serve` on its own temporary data directory (demo data seeded), and that directory."""
    with tempfile.TemporaryDirectory(prefix="horae-screenshots-") as tmp:
        data_dir, log_dir = Path(tmp, "data"), Path(tmp, "logs")
        data_dir.mkdir()
        log_dir.mkdir()
        server = serve(data_dir, log_dir, name="screenshots")
        try:
            yield server, data_dir
        finally:
            server.stop()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (HORAE_TEST_CHROMIUM or /usr/bin/chromium), headless."""
    executable = os.environ.get("HORAE_TEST_CHROMIUM") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def save(page: Page, target: Path) -> None:
    """The page as a PNG, its path printed as progress."""
    page.screenshot(path=str(target), animations="disabled")
    print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target, flush=True)
