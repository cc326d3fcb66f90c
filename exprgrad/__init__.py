"""exprgrad: math as text → derivatives you can trust and code you can ship.

>>> import exprgrad as eg
>>> f = eg.compile("tanh(x1*w1 + x2*w2 + b)")
>>> round(f(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432), 4)
0.7071
"""
from . import limits, nn
from .api import Function, compile
from .errors import (ArityError, CodegenError, DomainError, ExprError, ExprSyntaxError,
                     LimitError, NameResolutionError, ReassignmentError, RenderError, Span,
                     SymbolicError, UnknownFunctionError, UseBeforeAssignmentError,
                     VariableError, OutputError)
from .nn import losses, optim
from .parse import parse
from .valuetext import funcify
from .value import Value

__version__ = "0.1.0"

# Names whose modules import a heavy library (numpy, graphviz): imported on first use (PEP 562),
# so `import exprgrad` and the command line start without them.
_LAZY = {"draw_dot": "draw", "CompiledForward": "nn.compiled", "CompiledLoss": "nn.compiled",
         "compile_forward": "nn.compiled", "compile_loss": "nn.compiled"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'exprgrad' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "compile", "Function", "Value", "parse", "draw_dot", "funcify", "__version__",
    "ExprError", "ExprSyntaxError", "NameResolutionError", "UnknownFunctionError", "ArityError",
    "ReassignmentError", "UseBeforeAssignmentError", "VariableError", "OutputError",
    "DomainError",
    "SymbolicError", "CodegenError", "RenderError", "LimitError", "Span",
    "nn", "losses", "optim", "compile_loss", "compile_forward", "CompiledLoss", "CompiledForward",
]
