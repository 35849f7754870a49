"""A marimo app served by ``marimo run`` on loopback, for browser tests of the layouts in marimo."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

from .lab import READY_TIMEOUT_S, free_port, stop_server


def app_source(cells: list[str]) -> str:
    """A marimo app file: each code string is one cell whose last line is the value it shows."""
    parts = ["import marimo\n\napp = marimo.App(width=\"full\")\n"]
    for i, code in enumerate(cells):
        body = textwrap.indent(textwrap.dedent(code).strip(), "    ")
        parts.append(f"\n@app.cell\ndef cell_{i}():\n{body}\n    return\n")
    parts.append('\nif __name__ == "__main__":\n    app.run()\n')
    return "".join(parts)


class MarimoServer:
    """``marimo run app.py --headless`` on a free loopback port, stopped by :meth:`stop`."""

    def __init__(self, root: Path, cells: list[str]) -> None:
        self.root = root
        self.port = free_port()
        app = root / "app.py"
        app.write_text(app_source(cells))
        self.log = open(root / "marimo.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "marimo", "run", str(app), "--headless", f"--port={self.port}", "--host=127.0.0.1"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=root, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"marimo exited: {(root / 'marimo.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url, timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("marimo did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        stop_server(self.process, self.log)
