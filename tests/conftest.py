"""Arguments a test gets by name (as in tangent's conftest): the corpus and the seed neuron.

- ``corpus_case``: the test runs once per corpus entry (`corpus.CORPUS`, ``Case(text,
  domains)``);
- ``smooth_corpus_case``: once per entry made of smooth ops only (`corpus.SMOOTH_CORPUS`);
- ``neuron``: the seed neuron ``n = x1*w1 + x2*w2 + b; o = tanh(n)``, freshly compiled;
- ``seed``: the seeds' point for it, a dict the test may change.

Tests marked ``slow`` (a minute or more of compiler time each) run with ``--run-slow``; the
default run tests the same code paths on smaller inputs and says in its summary what it skipped.
"""
import pytest

import exprgrad as eg
from corpus import CORPUS, NEURON, SEED, SMOOTH_CORPUS

_CASES = {"corpus_case": CORPUS, "smooth_corpus_case": SMOOTH_CORPUS}


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run the tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_generate_tests(metafunc):
    for name, cases in _CASES.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, cases, ids=[c.text[:40] for c in cases])


@pytest.fixture
def neuron() -> eg.Function:
    return eg.compile(NEURON)


@pytest.fixture
def seed() -> dict:
    return dict(SEED)
