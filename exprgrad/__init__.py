"""exprgrad: math as text → derivatives you can trust and code you can ship.

>>> import exprgrad as eg
>>> f = eg.compile("tanh(x1*w1 + x2*w2 + b)")
>>> round(f(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432), 4)
0.7071
"""
from . import limits, nn
from .api import Function, compile
from .draw import draw_dot
from .errors import (ArityError, CodegenError, DomainError, ExprError, ExprSyntaxError,
                     LimitError, NameResolutionError, ReassignmentError, RenderError, Span,
                     SymbolicError, UnknownFunctionError, UseBeforeAssignmentError,
                     VariableError, OutputError)
from .nn import losses, optim
from .nn.compiled import CompiledForward, CompiledLoss, compile_forward, compile_loss
from .parse import parse
from .value import Value

__version__ = "0.1.0"

__all__ = [
    "compile", "Function", "Value", "parse", "draw_dot", "__version__",
    "ExprError", "ExprSyntaxError", "NameResolutionError", "UnknownFunctionError", "ArityError",
    "ReassignmentError", "UseBeforeAssignmentError", "VariableError", "OutputError",
    "DomainError",
    "SymbolicError", "CodegenError", "RenderError", "LimitError", "Span",
    "nn", "losses", "optim", "compile_loss", "compile_forward", "CompiledLoss", "CompiledForward",
]
