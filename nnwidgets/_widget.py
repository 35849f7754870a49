"""What every nnwidgets widget shares: its bundled front end, strict keyword arguments, a live model."""

from __future__ import annotations

import pathlib
from typing import Any

import anywidget
import traitlets
from torch import nn

from . import _live
from .core import ensure_module, model_signature

_STATIC = pathlib.Path(__file__).parent / "static"

_MISSING_BUNDLE = """
export default { render({ el }) {
  el.textContent = "nnwidgets: the front-end bundle is missing; run `npm run build` in the source tree.";
} };
"""


def static_file(name: str) -> pathlib.Path | str:
    """A bundled front-end file, or (JS only) a stand-in that says the bundle was never built."""
    path = _STATIC / name
    if path.exists():
        return path
    return _MISSING_BUNDLE if name.endswith(".js") else ""


def reject_unknown_kwargs(owner: Any, kwargs: dict) -> None:
    """Raise a ``TypeError`` for keyword arguments that are not traits of ``owner``."""
    known = set(owner.trait_names())
    unknown = sorted(set(kwargs) - known)
    if unknown:
        public = sorted(n for n in known if not n.startswith("_") and n not in _WIDGET_PLUMBING)
        raise TypeError(
            f"{type(owner).__name__}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(public)}"
        )


_WIDGET_PLUMBING = {
    "comm", "keys", "log", "tabbable", "tooltip", "layout", "children", "box_style",
}


class ModelWidget(anywidget.AnyWidget):
    """Base of the widgets that show a live ``nn.Module``: keeps a reference (never a copy) and
    refreshes itself after a notebook cell changed the model (see :meth:`refresh_if_changed`)."""

    auto_refresh = traitlets.Bool(True, help="refresh after a notebook cell changed the model")

    def __init__(self, model: nn.Module, **kwargs: Any) -> None:
        self.model = ensure_module(model)
        reject_unknown_kwargs(self, kwargs)
        self._signature = model_signature(model)
        super().__init__(**kwargs)
        _live.watch(self)

    def refresh(self) -> None:
        """Recompute everything shown from the model as it is now."""
        raise NotImplementedError

    def refresh_if_changed(self) -> bool:
        """Refresh when the model's weights or structure changed since the last look; say whether."""
        signature = model_signature(self.model)
        if signature == self._signature:
            return False
        self._signature = signature
        self.refresh()
        return True
