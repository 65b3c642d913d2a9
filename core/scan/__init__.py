"""Loops: ``scan`` (Theano's), the ``Scan`` op and its backward loop ``ScanGrad``."""
from .builder import scan, until
from . import rewrites  # noqa: F401  (register the scan rewrites)
from .op import Scan, ScanGrad, ScanInfo

__all__ = ["scan", "until", "Scan", "ScanGrad", "ScanInfo"]
