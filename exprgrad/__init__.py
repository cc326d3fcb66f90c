"""exprgrad: math as text → derivatives you can trust and code you can ship.

>>> import exprgrad as eg
>>> f = eg.compile("tanh(x1*w1 + x2*w2 + b)")
>>> round(f(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432), 4)
0.7071
"""
from . import limits
from .api import Function, compile
from .errors import (ArityError, CodegenError, DomainError, ExprError, ExprSyntaxError,
                     LimitError, NameResolutionError, ReassignmentError, RenderError, Span,
                     SymbolicError, UnknownFunctionError, UseBeforeAssignmentError,
                     VariableError, OutputError)
from .parse import parse
from .value import Value

__version__ = "0.1.0"

# Names imported on first use (PEP 562), name → (module, attribute; None: the module itself):
# those whose modules import a heavy library (numpy, graphviz), so that `import exprgrad` and
# the command line start without them, and the neural-net layer, which neither needs.
_LAZY = {"draw_dot": ("draw", "draw_dot"), "CompiledForward": ("nn.compiled", "CompiledForward"),
         "CompiledLoss": ("nn.compiled", "CompiledLoss"),
         "compile_forward": ("nn.compiled", "compile_forward"),
         "compile_loss": ("nn.compiled", "compile_loss"), "nn": ("nn", None),
         "losses": ("nn.losses", None), "optim": ("nn.optim", None),
         "funcify": ("valuetext", "funcify")}


def __getattr__(name: str):
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'exprgrad' has no attribute {name!r}")
    import importlib
    module = importlib.import_module(f".{where[0]}", __name__)
    value = module if where[1] is None else getattr(module, where[1])
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
