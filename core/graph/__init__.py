"""Graph data structures: Variable, Constant, Apply, Op, Type, FunctionGraph."""
from .basic import Apply, Constant, Op, Type, Variable
from .fg import FunctionGraph
from .utils import ancestors, clone_replace, graph_inputs, toposort
