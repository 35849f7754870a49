"""`make lab` opens JupyterLab on the tour, also as root (as in containers, where jupyter refuses to
start without --allow-root)."""

import os
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_starts_jupyterlab_on_the_tour():
    from e2e.lab import free_port

    port, token = free_port(), uuid.uuid4().hex
    args = f"LAB_ARGS=--no-browser --port={port} --ServerApp.token={token} --ServerApp.ip=127.0.0.1"
    process = subprocess.Popen(["make", "--no-print-directory", "lab", args], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # includes the install step when the set-up files changed
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"make lab exited with {process.returncode}: {process.stdout.read()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/00_tour.ipynb?token={token}", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 300 s")
        if os.geteuid() == 0:
            assert "--allow-root" in subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True).stdout
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
