"""The default ``randomize:`` section: how each group of numbers is drawn when the spec does not say."""

from __future__ import annotations

from collections.abc import Sequence

from gradegen.core.spec import Draw, Loss, Randomize, Spec

WIDE_FAN_IN = 4
"""Layers fed by more units than this get symmetric default weights."""


def default_randomize(spec: Spec) -> Randomize:
    """The spec's ``randomize:`` section with every group not given filled in by the default.

    Defaults, in the handout's style (2 decimal places):

    * inputs uniform in [0.05, 0.95]; weights and biases in [0.10, 0.90]; each range becomes
      symmetric ([−0.95, 0.95], [−0.90, 0.90]) when the spec itself has a negative number in that
      group, and the weights' also when a layer is fed by more than 4 units (positive weights
      would saturate its sums); weights get 3 places when a layer has more weights than the
      range has 2-place numbers (they must differ); biases are kept when the spec's biases are
      all 0 (a network without biases);
    * targets: half_mse, sse and mse in [0.01, 0.99] ([−0.99, 0.99] if the spec has a negative
      target); bce targets are kept (they are labels); cross_entropy targets are a random
      distribution rounded to as many places as the spec's targets have (at most 2; one-hot
      targets stay one-hot, with a random class);
    * the learning rate is kept.
    """
    given = spec.randomize or Randomize()
    weights = [w for layer in spec.layers for row in layer.weights for w in row]
    biases = [b for layer in spec.layers for b in layer.biases()]

    def span(values: Sequence[float], low: float, high: float, *, symmetric: bool = False) -> Draw:
        return Draw(low=-high if symmetric or min(values) < 0 else low, high=high, decimals=2)

    wide = max(len(layer.weights[0]) for layer in spec.layers) > WIDE_FAN_IN
    weight_draw = span(weights, 0.10, 0.90, symmetric=wide)
    biggest = max(layer.size * len(layer.weights[0]) for layer in spec.layers)
    if biggest > round((weight_draw.high or 0) - (weight_draw.low or 0), 2) * 100 + 1:
        weight_draw = weight_draw.model_copy(update={"decimals": 3})  # room for distinct weights

    if spec.loss is Loss.CROSS_ENTROPY:
        one_hot = all(t in (0.0, 1.0) for t in spec.targets)
        places = 0 if one_hot else min(2, max(1, *(_places(t) for t in spec.targets)))
        targets = Draw(decimals=places)
    elif spec.loss is Loss.BCE:
        targets = Draw(keep=True)
    else:
        targets = span(spec.targets, 0.01, 0.99)
    defaults = {
        "inputs": span(spec.inputs, 0.05, 0.95),
        "targets": targets,
        "weights": weight_draw,
        "biases": Draw(keep=True) if not any(biases) else span(biases, 0.10, 0.90),
        "learning_rate": Draw(keep=True),
    }
    return given.model_copy(
        update={g: getattr(given, g) or defaults[g] for g in Randomize.GROUPS},
    )


def _places(x: float) -> int:
    text = repr(float(x))
    return 0 if "e" in text else len(text.split(".")[1].rstrip("0"))
