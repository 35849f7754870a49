"""Tasks for explanations of pictures (issue 10), scheduled and cached by the inspector like those of
``core/tasks.py``. ``ImageAttribution(values, target, method, steps=32, window=0)`` computes an
:class:`~nnwidgets.core.image_attributions.ImageAttributions` (``raw`` (C, H, W), ``map`` (H, W) summed over
channels, ``method``, ``target``, ``output``, ``delta``, ``seconds``) with Captum on the shadow: ``method``
is one of ``METHODS``; the gradient methods run on the quick lane, occlusion (``window`` 0: an eighth of the
picture's side) on the slow lane after a 0.25 s settle. ``ImageLime(values, target, num_samples=1000,
seed=0)`` computes an :class:`~nnwidgets.core.image_lime.ImageLimeResult` (``segments`` (H, W), ``weights``
indexed by segment id, ``intercept``, ``score``, ``target``, ``samples``, ``seconds``) with lime on the slow
lane after the same settle, reporting progress per batch and stopping at ``job.check()`` when a newer
request replaces it. ``values`` is the picture flat, as a tuple (``tuple(ins.values)``); the reference
picture for integrated gradients, occlusion and LIME is black (every pixel at ``ins.image.low``, in raw
units). Both raise ``TypeError`` when the inspector holds no pictures, ``ValueError`` for an unknown method
or a target that is not a class.

Example::

    import numpy as np, torch, nnwidgets as nw
    from nnwidgets.core.image_tasks import ImageAttribution, ImageLime
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(144, 10))
    s = nw.Inspector(net, np.random.default_rng(0).random((20, 8, 8)))
    ig = s.compute(ImageAttribution(tuple(s.values), 3, "integrated_gradients"))
    lime = s.compute(ImageLime(tuple(s.values), 3, num_samples=500))
    ig.map.shape, lime.weights[lime.segments].shape      # ((8, 8), (8, 8))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .image_attributions import DEFAULT_STEPS, METHODS, ImageAttributions, check_method, check_target, image_attributions, require_image
from .image_lime import ImageLimeResult, explain_image_lime
from .tasks import Task

__all__ = ["METHODS", "ImageAttribution", "ImageAttributions", "ImageLime", "ImageLimeResult"]

SETTLE_S = 0.25


@dataclass(frozen=True)
class ImageAttribution(Task):
    """Attributions of the picture ``values`` for class ``target`` by ``method`` (see module docstring).

    >>> import numpy as np, torch, nnwidgets as nw
    >>> s = nw.Inspector(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2)), np.zeros((3, 4, 4)))
    >>> s.compute(ImageAttribution(tuple(s.values), 1, "saliency")).map.shape
    (4, 4)
    """

    values: tuple[float, ...]
    target: int
    method: str
    steps: int = DEFAULT_STEPS
    window: int = 0
    priority: ClassVar[int] = 1
    keep: ClassVar[int] = 16

    def __post_init__(self) -> None:
        check_method(self.method)

    @property
    def lane(self) -> str:
        return "slow" if self.method == "occlusion" else "quick"

    @property
    def settle(self) -> float:
        return SETTLE_S if self.method == "occlusion" else 0.0

    def run(self, ins, version, job) -> ImageAttributions:
        job.check()
        return image_attributions(ins, self.values, self.target, self.method, version, steps=self.steps, window=self.window)

    def describe(self, ins):
        if self.method == "integrated_gradients":
            return f"integrated gradients ({self.steps} steps)"
        return {"saliency": "saliency", "gradient_x_input": "gradient × input", "occlusion": "occlusion"}[self.method]


@dataclass(frozen=True)
class ImageLime(Task):
    """LIME on the picture ``values`` for class ``target``, from ``num_samples`` pictures drawn with ``seed``.

    >>> import numpy as np, torch, nnwidgets as nw
    >>> s = nw.Inspector(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2)),
    ...                  np.random.default_rng(0).random((3, 8, 8)))
    >>> r = s.compute(ImageLime(tuple(s.values), 0, num_samples=100))
    >>> r.segments.shape, r.samples
    ((8, 8), 100)
    """

    values: tuple[float, ...]
    target: int
    num_samples: int = 1000
    seed: int = 0
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 1
    settle: ClassVar[float] = SETTLE_S
    keep: ClassVar[int] = 16

    def run(self, ins, version, job) -> ImageLimeResult:
        layout = require_image(ins, "image LIME")
        target = check_target(ins, self.target)
        return explain_image_lime(layout, ins.predict_function(version, job.check), np.array(self.values), target,
                                  self.num_samples, self.seed, progress=job.progress, check=job.check)

    def describe(self, ins):
        return f"LIME on {self.num_samples:,} pictures"
