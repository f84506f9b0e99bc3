"""datrain: train neural networks by data assimilation (EnKF, ESMDA), with gradient baselines.

Public API::

    MLP                      ensemble-vectorised feed-forward network
    esmda, enkf              model-agnostic DA trainers
    gd, adam                 gradient baselines (same history and cost currency)
    datasets, metrics        synthetic problems and scores
    TrainResult, StepInfo    what trainers return / what callbacks see
"""
from datrain import datasets, metrics, schedules, seeding
from datrain.enkf import enkf
from datrain.esmda import esmda
from datrain.gradient import adam, gd
from datrain.history import StepInfo, TrainResult
from datrain.mlp import MLP

__version__ = "0.1.0"

__all__ = ["MLP", "esmda", "enkf", "gd", "adam", "datasets", "metrics", "schedules", "seeding",
           "StepInfo", "TrainResult", "__version__"]
