"""Running the Node SDK scripts in tests/e2e/node: JSON config on stdin, a JSON result on stdout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).parent / "node"


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: install Node.js (Debian package `nodejs`) to run the Node SDK test")
    if not (NODE_DIR / "node_modules" / "cronofy" / "package.json").exists():
        pytest.fail(f"the Node SDK is not installed: run `npm ci` in {NODE_DIR} (scripts/test-services.sh does)")
    return node


def run_script(script: str, config: dict[str, Any], timeout: float = 60) -> Any:
    """Run one script with `config`; fail the test with its output unless it exits 0."""
    result = subprocess.run(
        [node_executable(), script],
        cwd=NODE_DIR,
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stderr}\n{result.stdout}"
    return json.loads(result.stdout)
