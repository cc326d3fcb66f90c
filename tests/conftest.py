"""Arguments a test gets by name (as in tangent's conftest): the corpus and the seed neuron.

- ``corpus_case``: the test runs once per corpus entry (`corpus.CORPUS`, ``Case(text,
  domains)``);
- ``smooth_corpus_case``: once per entry made of smooth ops only (`corpus.SMOOTH_CORPUS`);
- ``neuron``: the seed neuron ``n = x1*w1 + x2*w2 + b; o = tanh(n)``, freshly compiled;
- ``seed``: the seeds' point for it, a dict the test may change.
"""
import pytest

import exprgrad as eg
from corpus import CORPUS, NEURON, SEED, SMOOTH_CORPUS

_CASES = {"corpus_case": CORPUS, "smooth_corpus_case": SMOOTH_CORPUS}


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
