"""The CUDA backend (cupy): selected with ``core.config.device = 'cuda'``, imported only then.

``codegen`` writes CUDA C for elementwise nodes from the scalar-op table the C backend
uses (``backends/scalar_c.py``) and needs no cupy; ``backend`` and ``kernels`` run
them, and the other ops, through cupy.
"""
