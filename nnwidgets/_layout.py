"""Layouts of several views in one widget (anywidget composition): they render in JupyterLab,
Notebook 7, VS Code and marimo alike, where ipywidgets containers do not (marimo)."""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from . import _live
from ._sync import ThreadSafeWidget
from ._view import View, static_file
from .core import Inspector

REF_PREFIX = "anywidget:"


def _refs(children: list, _widget: Any) -> list[str]:
    return [f"{REF_PREFIX}{child.model_id}" for child in children]


def widget(index: int) -> dict:
    return {"kind": "widget", "index": index}


def row(*items: dict) -> dict:
    return {"kind": "row", "items": list(items)}


def column(*items: dict) -> dict:
    return {"kind": "column", "items": list(items)}


def _children(node: dict) -> list[dict]:
    return node["items"] if "items" in node else [node["item"]] if "item" in node else []


def widgets_in(node: dict) -> set[int]:
    """The indices of the widgets anywhere inside ``node``."""
    if node["kind"] == "widget":
        return {node["index"]}
    return set().union(*(widgets_in(child) for child in _children(node)))


def first_tabs(node: dict) -> dict | None:
    """The first tabs node in ``node`` (depth first): the one ``selected_tab`` chooses in."""
    if node["kind"] == "tabs":
        return node
    return next((found for child in _children(node) if (found := first_tabs(child)) is not None), None)


def tabs(**items: dict) -> dict:
    return {"kind": "tabs", "titles": list(items), "items": list(items.values())}


def section(title: str, item: dict, open: bool = True) -> dict:
    return {"kind": "section", "title": title, "open": open, "item": item}


class Layout(ThreadSafeWidget):
    """Views of one inspector arranged in rows, columns, tabs and collapsible sections, drawn by one
    widget. ``row``, ``values``, ``target_class`` and ``selected_layer`` are the inspector's.

    Once the layout is on the page, views in tabs that are not selected are parked: they compute
    nothing until their tab is chosen (a slider drag costs only what is in sight)."""

    _esm = static_file("layout.js")
    _css = static_file("layout.css")

    children = traitlets.List(traitlets.Instance(anywidget.AnyWidget)).tag(sync=True, to_json=_refs)
    arrangement = traitlets.Dict().tag(sync=True)
    css_class = traitlets.Unicode("").tag(sync=True)
    selected_tab = traitlets.Int(0, help="the tab shown (layouts with tabs)").tag(sync=True)

    def __init__(self, inspector: Inspector, views: list[View], arrangement: dict, css_class: str) -> None:
        self.inspector = inspector
        self.views = views
        self._shown = 0
        self._ever_shown = False
        self._closed = False
        self.auto_refresh = True
        tab_node = first_tabs(arrangement)
        self._tab_members = [widgets_in(item) for item in tab_node["items"]] if tab_node else []
        super().__init__(children=views, arrangement=arrangement, css_class=css_class)
        self.on_msg(self._on_message)
        self.observe(lambda _change: self._park_hidden_tabs(), names="selected_tab")
        _live.watch(self)

    # The selection, read from and written to the inspector.
    row = property(lambda self: self.inspector.row, lambda self, v: setattr(self.inspector, "row", v))
    values = property(lambda self: self.inspector.values.tolist(), lambda self, v: setattr(self.inspector, "values", v))
    target_class = property(lambda self: self.inspector.target_class, lambda self, v: setattr(self.inspector, "target_class", v))
    selected_layer = property(lambda self: self.inspector.selected_layer,
                              lambda self, v: setattr(self.inspector, "selected_layer", v))

    @traitlets.validate("selected_tab")
    def _check_selected_tab(self, proposal: dict) -> int:
        tabs = len(getattr(self, "_tab_members", ())) or 1
        if not 0 <= proposal["value"] < tabs:
            raise traitlets.TraitError(f"selected_tab must be between 0 and {tabs - 1} (this layout has {tabs} tab"
                                       f"{'s' if tabs != 1 else ''}), got {proposal['value']}")
        return proposal["value"]

    @property
    def live(self) -> bool:
        return not self._closed and (self._shown > 0 or not self._ever_shown)

    def _on_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        if content.get("event") == "view":
            self._shown = max(0, self._shown + (1 if content.get("shown") else -1))
            self._ever_shown = True
            self._park_hidden_tabs()
            if not self.live:
                _live.went_out_of_sight(self)

    def _park_hidden_tabs(self) -> None:
        """On the page, views in tabs other than the selected one are parked; once the layout left the
        page, all are; before it is displayed (or in a script) none are."""
        if self._closed:
            return
        hidden: set[int] = set()
        if self._shown == 0 and self._ever_shown:  # left the page: views never drawn would stay live
            hidden = set(range(len(self.views)))
        elif self._shown > 0 and self._tab_members:
            hidden = set().union(*self._tab_members) - self._tab_members[self.selected_tab]
        for index, view in enumerate(self.views):
            view.park(index in hidden)

    def refresh(self) -> None:
        """Recompute every view from the model as it is now."""
        self.inspector.refresh()

    def wait(self, timeout: float | None = 120) -> "Layout":
        """Block until every view's results have arrived (for scripts and tests)."""
        for view in self.views:
            view.wait(timeout)
        return self

    def close(self) -> None:
        if not getattr(self, "_closed", True):
            self._closed = True
            for view in self.views:
                view.close()
            self.views = []
            self.inspector = None
        super().close()

