"""The `>>>` examples in the package's docstrings run as tests."""
import doctest
import importlib
import pkgutil

import pytest

import exprgrad

MODULES = sorted(m.name for m in pkgutil.walk_packages(exprgrad.__path__, "exprgrad."))


@pytest.mark.parametrize("name", ["exprgrad", *MODULES])
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
