"""The peers, loaded the way their users load them: each loader returns the module (or a class)
or None when the peer is not installed.  Nothing here is faked: a missing peer stays missing.

Two adjustments, both stated in the tables' notes:
- micrograd 0.1.0 (PyPI) has no ``tanh``; the seed neuron needs it, so its `Value` gets the
  lecture's ``tanh`` (a closure-based ``_backward``, written as in micrograd itself).
- JAX computes in float32 unless ``jax_enable_x64`` is set; every workload here is float64.
"""
from __future__ import annotations

import importlib
import math


#: set by `run.py --no-peers`: every peer counts as missing (a fast smoke run)
DISABLED = False


def load(name: str):
    if DISABLED and name.split(".")[0] in ("micrograd", "sympy", "jax", "torch", "casadi",
                                           "numexpr"):
        return None
    try:
        return importlib.import_module(name)
    except Exception:                  # noqa: BLE001 - broken installs count as missing
        return None


def micrograd_value():
    """micrograd's `Value`, with the lecture's ``tanh`` added when the package lacks it."""
    engine = load("micrograd.engine")
    if engine is None:
        return None
    Value = engine.Value
    if not hasattr(Value, "tanh"):
        def tanh(self):
            x = self.data
            t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
            out = Value(t, (self,), "tanh")

            def _backward():
                self.grad += (1 - t ** 2) * out.grad
            out._backward = _backward
            return out
        Value.tanh = tanh
    return Value


def jax():
    """(jax, jax.numpy) with float64 enabled, or None."""
    mod = load("jax")
    if mod is None:
        return None
    mod.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return mod, jnp


def torch():
    mod = load("torch")
    if mod is not None:
        mod.set_num_threads(max(1, mod.get_num_threads()))
    return mod


def casadi():
    return load("casadi")


def numexpr():
    return load("numexpr")


def sympy():
    return load("sympy")
