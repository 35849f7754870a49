"""Jupyter widgets that make a live PyTorch model explain itself.

>>> import torch, numpy as np, nnwidgets as nw
>>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
>>> s = nw.Inspector(net, np.random.default_rng(0).normal(size=(20, 4)))
>>> nw.ModelExplorer(s).selected_layer
'0'
"""

from .activation_analysis import ActivationAnalysis
from .activations import Activations
from .attributions import Attributions
from .core import Inspector
from .dashboard import Dashboard
from .explainer import Explainer
from .feature_maps import FeatureMaps
from .gam_explainer import GamExplainer
from .image_explainer import ImageExplainer
from .importance import Importance
from .input_editor import InputEditor
from .layer_bars import LayerBars
from .lime_explainer import LimeExplainer
from .model_explorer import ModelExplorer
from .surrogates import Surrogates
from .training_monitor import TrainingMonitor
from .trainer import Trainer
from .unit_visualizer import UnitVisualizer
from .weight_distributions import WeightDistributions
from .weight_heatmap import WeightHeatmap
from .weight_tiles import WeightTiles

__all__ = ["ActivationAnalysis", "Activations", "Attributions", "Dashboard", "Explainer", "FeatureMaps", "GamExplainer", "ImageExplainer", "Importance",
           "InputEditor", "Inspector", "LayerBars", "LimeExplainer", "ModelExplorer", "Surrogates", "Trainer", "TrainingMonitor",
           "UnitVisualizer", "WeightDistributions",
           "WeightHeatmap", "WeightTiles"]
__version__ = "0.1.0"
