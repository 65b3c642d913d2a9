"""The symbolic core: graphs, autodiff, the optimizer and ``function``.

Examples
--------
>>> import core.tensor as T
>>> from core import function, shared
>>> x = T.dscalar('x'); function([x], T.grad(x ** 2, x))(4)
array(8.)
"""
from .config import config
from .compile.function import Function, In, Out, function
from .compile.nanguard import NanGuardMode
from .compile.shared import SharedVariable, shared
from .gradient import grad
from .printing import debugprint, pp
from .scan import scan  # noqa: E402  (core.scan is the loop function; the package is core.scan.*)

__all__ = ["config", "function", "In", "Out", "Function", "shared", "SharedVariable", "grad", "pp",
           "debugprint", "NanGuardMode"]
