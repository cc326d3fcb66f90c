"""micrograd's module name for `Value` (``from micrograd.engine import Value``): an alias of
`exprgrad.value`, so code written against micrograd runs with only the package name changed."""
from .value import Value

__all__ = ["Value"]
