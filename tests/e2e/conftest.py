import os
import shutil

import pytest

from .lab import CHROMIUM, CHROMIUM_ARGS, LabServer

ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts")


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("NNW_SKIP_E2E") == "1":
            pytest.skip("Chromium missing and NNW_SKIP_E2E=1")
        pytest.fail("Chromium is not installed: run `make browser` (or set NNW_SKIP_E2E=1 to skip browser tests)")
    server = LabServer(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, lab, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"last-{request.node.name}.png"))
    context.close()
    lab.shutdown_kernels()


@pytest.fixture(scope="session")
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS
