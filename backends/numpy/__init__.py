"""The numpy backend: the reference kernel for every op."""
from ..registry import KernelRegistry

registry = KernelRegistry("numpy")

from . import elemwise, math, nnet, conv, extra, join, pool, shape, subtensor  # noqa: E402,F401  (fill the registry)
from . import collective, grouped_conv, ifelse, print_op, random, scan  # noqa: E402,F401  (MPI, grouped conv, random streams, ifelse, scan, print)
from . import rewritten_ops  # noqa: E402,F401  (ops introduced by the optimizer)
from . import gradient_ops  # noqa: E402,F401  (zero_grad, grad_clip, ...)
