"""Neural nets of `Value`s: micrograd's `Module`, `Neuron`, `Layer` and `MLP`.

The neural-net layer sits on top of the compiler: this module holds the models, `losses` the
loss functions, `optim` the update rule and `compiled` the traced, compiled training step
(``exprgrad.losses`` and ``exprgrad.optim`` are these modules, re-exported).

Input: layer sizes, an activation and a seed → a model whose call maps a list of numbers (or
`Value`s) to `Value`s, and whose `parameters()` are the `Value`s a training loop updates.  The
semantics are micrograd's: weights drawn from ``uniform(-1, 1)``, biases start at 0, every layer
but the last applies the activation, the last layer is linear (unless ``activate_output=True``,
as in the seeds' lecture), and a layer of one neuron returns
that neuron's `Value` rather than a list.  Two choices micrograd leaves to its global state are
explicit here: the activation (``"relu"`` as micrograd, or ``"tanh"`` as the seeds' notebook)
and the random source (``random.Random(seed)``, drawn in parameter order).

>>> model = MLP(3, [4, 4, 1], seed=0)
>>> len(model.parameters())
41
>>> model
MLP of [Layer of [ReLUNeuron(3), ReLUNeuron(3), ReLUNeuron(3), ReLUNeuron(3)],
        Layer of [ReLUNeuron(4), ReLUNeuron(4), ReLUNeuron(4), ReLUNeuron(4)],
        Layer of [LinearNeuron(4)]]
>>> round(model([2.0, 3.0, -1.0]).data, 6)
4.764698
"""
from __future__ import annotations

import random
from typing import Sequence

from ..errors import VariableError
from ..ops import FUNCTIONS
from ..valuetext import funcify
from ..value import VALUE_MATH, Value, as_value

#: activation name → (Value method, the word `__repr__` puts before "Neuron")
ACTIVATIONS = {"relu": ("relu", "ReLU"), "tanh": ("tanh", "Tanh")}


class Module:
    """Anything with parameters: `zero_grad()` resets their gradients before a backward pass;
    `funcify()` writes the model as program text."""

    nin = 0                                 # how many inputs a call reads

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []

    def funcify(self, inputs: Sequence[str] | None = None, example: Sequence | None = None
                ) -> str:
        """The model as exprgrad program text (the seeds' exercise 6): its inputs are the
        variables, named `inputs` (default ``x1, x2, ...``), its parameters constants at their
        current values, written exactly.  ``exprgrad.compile`` reads it back to the same
        function; a layer of several neurons gives a program of several outputs.  The model
        is called once on `example` (default zeros) and `valuetext.funcify` writes the DAG of
        that call: the same for every input, since the layers branch only inside ops (relu).

        >>> n = Neuron(2, activation="tanh", rng=random.Random(0))
        >>> print(n.funcify(["x", "y"]))
        tanh(0 + 0.6888437030500962*x + 0.515908805880605*y)
        """
        names = list(inputs) if inputs is not None else [f"x{i + 1}" for i in range(self.nin)]
        values = [0.0] * len(names) if example is None else [float(v) for v in example]
        if len(names) != self.nin or len(values) != self.nin:
            raise VariableError(f"the model reads {self.nin} inputs: give {self.nin} names "
                                "and example values")
        x = [Value(v, label=name) for name, v in zip(names, values)]
        return funcify(self._record(x), dict(zip(names, x)))

    def _record(self, x):
        """The call `funcify` records (an MLP labels its hidden values on the way)."""
        return self(x)


class Neuron(Module):
    """``act(w · x + b)``: `nin` weights from ``uniform(-1, 1)``, bias 0; linear if not nonlin."""

    def __init__(self, nin: int, nonlin: bool = True, activation: str = "relu",
                 rng: random.Random | None = None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; "
                             f"choose one of {', '.join(ACTIVATIONS)}")
        rng = rng if rng is not None else random.Random()
        self.nin = nin
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin
        self.activation = activation

    def __call__(self, x: Sequence) -> Value:
        # Start the sum at the bias, as micrograd does, so the graph holds no lifted 0.
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return getattr(act, ACTIVATIONS[self.activation][0])() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        kind = ACTIVATIONS[self.activation][1] if self.nonlin else "Linear"
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons reading the same inputs; one neuron's output is returned unwrapped."""

    def __init__(self, nin: int, nout: int, **kwargs):
        self.nin = nin
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes `nouts` after `nin` inputs; the activation on all but the last layer,
    and on the last one too with ``activate_output=True`` (the seeds' lecture MLP, whose
    tanh output neuron keeps predictions in (-1, 1) for ±1 targets).

    ``seed`` seeds a private ``random.Random`` (``None``: fresh entropy); pass ``rng`` to share
    one generator between models.  Parameters are drawn layer by layer, neuron by neuron,
    weights in input order, in the order `parameters()` lists them.

    >>> MLP(3, [4, 4, 1], activation="tanh", activate_output=True, seed=0).layers[-1]
    Layer of [TanhNeuron(4)]
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 seed: int | None = None, rng: random.Random | None = None,
                 activate_output: bool = False):
        rng = rng if rng is not None else random.Random(seed)
        self.nin = nin
        sz = [nin] + list(nouts)
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=activate_output or i != len(nouts) - 1,
                             activation=activation, rng=rng)
                       for i in range(len(nouts))]

    def __call__(self, x: Sequence):
        return self._run(x, label=False)

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def _record(self, x):
        return self._run(x, label=True)

    def _run(self, x: Sequence, label: bool):
        for i, layer in enumerate(self.layers):
            # A one-neuron layer returns its Value unwrapped; the next layer reads a list.
            x = layer(x if isinstance(x, (list, tuple)) else [x])
            if label and i < len(self.layers) - 1:
                # Hidden values named h1_1 ... (layer, neuron): funcify writes each one once.
                for j, h in enumerate(x if isinstance(x, list) else [x]):
                    h.label = f"h{i + 1}_{j + 1}"
        return x

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def softmax(values: Sequence) -> list[Value]:
    """Probabilities ``exp(z_i - max z) / sum_j exp(z_j - max z)`` of a list of scores, e.g. a
    layer's outputs: a list output (the seeds' exercise 5), each entry a `Value` that
    backpropagates.  Built by the language's own ``softmax`` (``ops.FUNCTIONS``), so no
    exponential of a large score is taken and the entries sum to 1 within a few ulps.  For
    training, give the scores themselves to ``losses.cross_entropy``: it takes
    logsumexp(z) - z_y without forming the probabilities.

    >>> [round(p.data, 4) for p in softmax([1.0, 2.0, 3.0])]
    [0.09, 0.2447, 0.6652]
    """
    scores = [as_value(v) for v in values]
    if not scores:
        raise ValueError("softmax of no values")
    return FUNCTIONS["softmax"].build(VALUE_MATH, *scores)
