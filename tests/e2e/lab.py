"""A real JupyterLab driven through Chromium: start it, open a notebook, run cells, read Python back."""

from __future__ import annotations

import contextlib
import json
import re
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
READY_TIMEOUT_S = 90
RUN_ATTEMPTS = 4
RUN_START_TIMEOUT_S = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``jupyter lab`` (or, with ``app="notebook"``, Notebook 7) on loopback in its own directories,
    stopped by :meth:`stop`."""

    def __init__(self, root: Path, app: str = "lab") -> None:
        self.root = root
        self.app = app
        self.port = free_port()
        self.token = uuid.uuid4().hex
        home = root / ".jupyter-home"
        env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
            PYTHONUNBUFFERED="1",
        )
        news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True, exist_ok=True)
        news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        self.log = open(root / "lab.log", "w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter", app, "--no-browser", f"--port={self.port}",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={self.token}", "--allow-root",
                f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.expose_app_in_browser=True",
            ],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=root,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        url = f"http://127.0.0.1:{self.port}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {(self.root / 'lab.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(url, timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("jupyter lab did not start")

    def url(self, notebook: str) -> str:
        if self.app == "notebook":
            return f"http://127.0.0.1:{self.port}/notebooks/{notebook}?token={self.token}"
        # `reset` opens only this notebook, not the tabs a previous test left in the workspace.
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        """End every running session (each test's notebook starts a kernel of its own)."""
        base = f"http://127.0.0.1:{self.port}/api/sessions"
        with urllib.request.urlopen(f"{base}?token={self.token}", timeout=10) as reply:
            sessions = json.load(reply)
        for session in sessions:
            request = urllib.request.Request(f"{base}/{session['id']}?token={self.token}", method="DELETE")
            urllib.request.urlopen(request, timeout=30).read()

    def stop(self) -> None:
        stop_server(self.process, self.log)


def stop_server(process: subprocess.Popen, log) -> None:
    """End a server process (killed if it ignores the request for 15 s) and close its log."""
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells] + [nbformat.v4.new_code_cell("")]
    nbformat.write(nb, path)


class Notebook:
    """An open notebook page. Its last cell is a probe: :meth:`python` types code there and runs it."""

    def __init__(self, page, server: LabServer, name: str, cells: list[str]) -> None:
        self.page = page
        self.stderr = ""
        write_notebook(server.root / name, cells)
        page.goto(server.url(name))
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=READY_TIMEOUT_S * 1000)
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        kernel_dialog = page.locator(".jp-Dialog button", has_text="Select")
        idle.or_(kernel_dialog).first.wait_for(timeout=READY_TIMEOUT_S * 1000)
        if kernel_dialog.count():  # a slow server can ask even though the notebook names its kernel
            kernel_dialog.first.click()
            idle.wait_for(timeout=READY_TIMEOUT_S * 1000)
        self.count = len(cells)

    def _dismiss_kernel_dialog(self) -> None:
        """A slow server can ask for a kernel after the notebook looked ready; the dialog blocks clicks."""
        dialog = self.page.locator(".jp-Dialog button", has_text="Select")
        if dialog.count() and dialog.first.is_visible():
            dialog.first.click()
            self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=READY_TIMEOUT_S * 1000)

    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run(self, index: int, keys: str = "Shift+Enter", timeout_s: float = 120) -> None:
        """Run a cell and wait until it finished with an execution count. Right after a notebook
        opens, Lab can drop a run (the prompt goes ``[*]`` and back to ``[ ]``), so retry then."""
        prompt = self.cell(index).locator(".jp-InputPrompt")
        for _ in range(RUN_ATTEMPTS):
            self._dismiss_kernel_dialog()
            before = prompt.inner_text().strip()
            self.cell(index).locator(".jp-InputArea-editor").click()
            self.page.keyboard.press(keys)
            handle = prompt.element_handle()
            try:
                self.page.wait_for_function(
                    "([el, before]) => { const t = el.textContent.trim(); return t !== before && /\\[(\\d+|\\*)\\]/.test(t); }",
                    arg=[handle, before], timeout=RUN_START_TIMEOUT_S * 1000,
                )
                self.page.wait_for_function("el => !el.textContent.includes('*')", arg=handle, timeout=timeout_s * 1000)
            except PlaywrightTimeout:
                continue
            if re.search(r"\[\d+\]", prompt.inner_text()):
                return
        raise TimeoutError(f"cell {index} did not run")

    def python(self, code: str, timeout_s: float = 60) -> object:
        """Run ``code`` in the kernel; the value of its last line comes back through JSON."""
        marker = uuid.uuid4().hex
        lines = code.strip().splitlines()
        body = "\n".join(lines[:-1])
        source = f"{body}\nimport json as _j; print('{marker}' + _j.dumps({lines[-1]}))"
        probe = self.cell(self.count)
        probe.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(source)
        self.run(self.count, keys="Control+Enter")
        stdout = probe.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']", has_text=marker)
        error = probe.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
        stdout.or_(error.first).first.wait_for(timeout=timeout_s * 1000)
        if not stdout.count():
            raise AssertionError(error.first.inner_text())
        self.stderr = "\n".join(error.all_inner_texts())
        return json.loads(stdout.inner_text().split(marker, 1)[1].strip().splitlines()[0])


@contextlib.contextmanager
def notebook_in_chromium(cells: list[str], viewport: dict | None = None):
    """A fresh Lab server and Chromium with one notebook open (for benchmarks and scripts)."""
    from playwright.sync_api import sync_playwright

    server = LabServer(Path(tempfile.mkdtemp(prefix="nnw-lab-")))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=viewport or {"width": 1400, "height": 900})
            try:
                yield page, Notebook(page, server, "session.ipynb", cells)
            finally:
                browser.close()
    finally:
        server.stop()
