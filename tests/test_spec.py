"""Reading and validating specs: every error names its field and says what was expected."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradegen.core.spec import Activation, Loss, load_spec, parse_spec, preset, preset_text
from gradegen.errors import SpecError

HANDOUT_YAML = preset_text("handout")


def handout_data() -> dict[str, Any]:
    return preset("handout").to_data()


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(handout_data())
    change(data)
    return data


def test_handout_preset_is_the_lecture_network() -> None:
    """The built-in network is the handout's: inputs, targets, weights, biases and η."""
    spec = load_spec()
    assert spec.inputs == (0.05, 0.10)
    assert spec.targets == (0.01,)
    assert spec.layers[0].weights == ((0.15, 0.20), (0.25, 0.30))
    assert spec.layers[1].weights == ((0.40, 0.45),)
    assert (spec.layers[0].bias, spec.layers[1].bias) == (0.35, 0.60)
    assert spec.learning_rate == 0.0001
    assert spec.loss is Loss.HALF_MSE and spec.layers[1].activation is Activation.SIGMOID


def test_mazur_preset() -> None:
    """The 2-2-2 walkthrough: w1…w8, targets .01/.99, η = 0.5, biases not updated."""
    spec = preset("mazur")
    weights = [w for layer in spec.layers for row in layer.weights for w in row]
    assert weights == [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
    assert spec.targets == (0.01, 0.99)
    assert spec.learning_rate == 0.5 and spec.update_biases is False


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_same_spec_in_every_format(write: Any, suffix: str) -> None:
    """YAML, JSON and TOML files with the same fields give the same spec."""
    data = handout_data()
    if suffix == ".json":
        text = json.dumps(data)
    elif suffix == ".toml":
        text = _toml(data)
    else:
        text = HANDOUT_YAML
    assert load_spec(write(f"net{suffix}", text)) == preset("handout")


def _toml(data: dict[str, Any]) -> str:
    lines = []
    for key, value in data.items():
        if key == "layers" or isinstance(value, dict) or value is None:
            continue
        lines.append(f"{key} = {json.dumps(value)}")
    for layer in data["layers"]:
        lines.append("[[layers]]")
        for key, value in layer.items():
            if value is not None:
                lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def test_title_defaults_to_file_name(write: Any) -> None:
    """A spec without a title is titled after its file."""
    text = HANDOUT_YAML.replace("title: Backpropagation worked example\n", "")
    assert load_spec(write("week3.yaml", text)).title == "week3"


def test_exponent_numbers_in_yaml(write: Any) -> None:
    """`1e-4` is a number in YAML specs too (YAML 1.1 would read it as text)."""
    text = HANDOUT_YAML.replace("learning_rate: 0.0001", "learning_rate: 1e-4")
    assert load_spec(write("net.yaml", text)).learning_rate == 0.0001


# --------------------------------------------------------------------------- one test per error


def _error(data: Any) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(data, source="net.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("net.yaml: ")
    return message


def _file_error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_empty_file(write: Any) -> None:
    """An empty file says it is empty and what a spec holds."""
    assert "empty file" in _file_error(write("net.yaml", "  \n# nothing\n"))


def test_not_a_mapping() -> None:
    """A list at the top level is not a spec."""
    assert "expected a mapping of fields at the top level, got a list" in _error([1, 2])


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("net.yaml", "inputs: [0.05, 0.10\n", "invalid YAML at line"),
        ("net.json", '{"inputs": [0.05,}', "invalid JSON at line 1"),
        ("net.toml", "inputs = [0.05,\n", "invalid TOML"),
    ],
)
def test_invalid_syntax(write: Any, name: str, text: str, fragment: str) -> None:
    """Broken YAML, JSON or TOML is reported with where it broke."""
    assert fragment in _file_error(write(name, text))


def test_binary_file(write: Any) -> None:
    """A binary file is refused as not text."""
    assert "not a text file" in _file_error(write("net.yaml", b"\x89PNG\r\n\x1a\n\x00\x00"))


def test_missing_file(tmp_path: Path) -> None:
    """A spec path that does not exist says so."""
    assert "no such spec file" in _file_error(tmp_path / "nope.yaml")


def test_wrong_output_shape() -> None:
    """Two rows for a one-output layer name the field, what was expected and what came."""
    data = edited(lambda d: d["layers"][1].update(weights=[[0.4, 0.45], [0.5, 0.55]]))
    assert _error(data) == (
        "net.yaml: layers[1].weights: expected 1 row of 2 numbers (1 neuron fed by 2 units, "
        "one neuron per target), got 2 rows"
    )


def test_wrong_row_length() -> None:
    """A row with the wrong number of weights names the row and the layer feeding it."""
    data = edited(lambda d: d["layers"][1].update(weights=[[0.4, 0.45, 0.5]]))
    assert "layers[1].weights[0]: expected 2 numbers (one per unit of layers[0]), got 3" in _error(data)


def test_wrong_number_of_targets() -> None:
    """Two targets for a one-output network: the output layer must have one row per target."""
    message = _error(edited(lambda d: d.update(targets=[0.01, 0.99])))
    assert "layers[1].weights: expected 2 rows" in message and "one neuron per target" in message


def test_no_targets() -> None:
    """An empty target list is refused."""
    assert "targets: expected at least one number" in _error(edited(lambda d: d.update(targets=[])))


def test_non_number() -> None:
    """Text where a number belongs names the exact cell."""
    data = edited(lambda d: d["layers"][0]["weights"][1].__setitem__(0, "abc"))
    assert _error(data) == "net.yaml: layers[0].weights[1][0]: expected a number, got 'abc'"


def test_boolean_is_not_a_number() -> None:
    """`true` is not accepted as a weight."""
    assert "inputs[0]: expected a number" in _error(edited(lambda d: d["inputs"].__setitem__(0, True)))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_and_infinity(bad: float) -> None:
    """NaN and infinity are refused."""
    message = _error(edited(lambda d: d["inputs"].__setitem__(1, bad)))
    assert "inputs[1]: expected a finite number" in message


@pytest.mark.parametrize("rate", [0, -0.1])
def test_learning_rate_must_be_positive(rate: float) -> None:
    """A learning rate ≤ 0 is refused."""
    assert "learning_rate: expected a number > 0" in _error(edited(lambda d: d.update(learning_rate=rate)))


def test_unknown_activation() -> None:
    """An unknown activation lists the known ones."""
    message = _error(edited(lambda d: d["layers"][0].update(activation="sigmoidal")))
    assert "layers[0].activation: expected one of" in message and "'sigmoidal'" in message
    assert "leaky_relu" in message


def test_unknown_loss() -> None:
    """An unknown loss lists the known ones."""
    message = _error(edited(lambda d: d.update(loss="l2")))
    assert "loss: expected one of" in message and "half_mse" in message


def test_softmax_on_hidden_layer() -> None:
    """Softmax belongs on the output layer only."""
    message = _error(edited(lambda d: d["layers"][0].update(activation="softmax")))
    assert message.endswith("layers[0].activation: softmax is only allowed on the output layer")


def test_softmax_needs_two_outputs() -> None:
    """A one-unit softmax is always 1 and is refused."""
    message = _error(edited(lambda d: d["layers"][1].update(activation="softmax")))
    assert "softmax needs at least 2 output units" in message


def test_bias_list_wrong_length() -> None:
    """A bias list must have one number per neuron."""
    message = _error(edited(lambda d: d["layers"][0].update(bias=[0.35, 0.35, 0.35])))
    assert "layers[0].bias: expected one shared number or 2 numbers (one per neuron), got 3" in message


def test_bce_targets_in_unit_interval() -> None:
    """Binary cross-entropy needs targets in [0, 1]."""
    message = _error(edited(lambda d: d.update(loss="bce", targets=[1.5])))
    assert "targets[0]: bce needs targets in [0, 1], got 1.5" in message


def test_bce_needs_probability_outputs() -> None:
    """Binary cross-entropy on a linear output is refused (log of a negative)."""
    data = edited(lambda d: (d.update(loss="bce"), d["layers"][1].update(activation="linear")))
    assert "loss: bce needs outputs between 0 and 1" in _error(data)


def test_cross_entropy_targets_sum_to_one() -> None:
    """Cross-entropy targets must be a distribution."""
    data = edited(
        lambda d: (
            d.update(loss="cross_entropy", targets=[0.2, 0.3]),
            d["layers"][1].update(activation="softmax", weights=[[0.4, 0.45], [0.5, 0.55]]),
        )
    )
    assert "targets: cross_entropy needs targets that sum to 1 (a distribution), got sum 0.5" in _error(data)


def test_unknown_key_suggests_the_right_one() -> None:
    """A misspelt key is refused with a did-you-mean."""
    data = edited(lambda d: d.update(learning_rat=0.1))
    assert "learning_rat: unknown key (did you mean 'learning_rate'?)" in _error(data)


def test_unknown_layer_key_suggests_the_right_one() -> None:
    """Layer keys get a did-you-mean too."""
    data = edited(lambda d: d["layers"][0].update(biases=0.3))
    assert "layers[0].biases: unknown key (did you mean 'bias'?)" in _error(data)


def test_missing_layers() -> None:
    """A spec without layers names the missing field."""
    assert "layers: required field is missing" in _error(edited(lambda d: d.pop("layers")))


def test_empty_layers() -> None:
    """An empty layer list is refused."""
    assert "layers: expected at least one layer" in _error(edited(lambda d: d.update(layers=[])))


def test_network_over_the_size_limit() -> None:
    """A network over the parameter limit is refused with its size."""
    data = edited(lambda d: d["layers"][0].update(weights=[[0.1, 0.2]] * 60))
    data["layers"][1]["weights"] = [[0.1] * 60]
    with pytest.raises(SpecError, match=r"182 parameters, over the limit of 100"):
        parse_spec(data, max_parameters=100)


def test_duplicate_yaml_key(write: Any) -> None:
    """A key given twice in YAML is an error, not a silent overwrite."""
    text = HANDOUT_YAML + "learning_rate: 0.5\n"
    assert "duplicate key 'learning_rate'" in _file_error(write("net.yaml", text))


def test_python_tags_never_run(write: Any, tmp_path: Path) -> None:
    """A YAML tag that would construct Python objects is refused, and nothing runs."""
    marker = tmp_path / "ran"
    text = f"!!python/object/apply:os.system ['touch {marker}']\n"
    message = _file_error(write("net.yaml", text))
    assert "invalid YAML" in message
    assert not marker.exists()


def test_alias_bomb_is_refused_quickly(write: Any) -> None:
    """A billion-laughs document is refused fast, without expanding it."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(9))}]" for i in range(1, 10)]
    started = time.perf_counter()
    message = _file_error(write("net.yaml", "\n".join(lines) + "\n"))
    assert "alias bomb" in message
    assert time.perf_counter() - started < 5


def test_deep_nesting_is_refused(write: Any) -> None:
    """Absurdly nested YAML gives a one-line error, not a crash."""
    message = _file_error(write("net.yaml", "[" * 5000 + "]" * 5000))
    assert "invalid YAML" in message


def test_tolerance_ids_must_exist() -> None:
    """Per-quantity settings name real quantity ids (checked when the graph is built)."""
    from gradegen.core.network import build_graph

    spec = parse_spec(edited(lambda d: d.update(points={"dL_dw9": 2})))
    with pytest.raises(SpecError, match=r"points\.dL_dw9: unknown quantity id \(did you mean"):
        build_graph(spec)


def _handout_json_with(member: str, where: str) -> str:
    """The handout spec as JSON text, with ``member`` (``"key": value``) added again inside ``where``."""
    text = json.dumps(handout_data())
    if where == "top":
        return text[:-1] + ", " + member + "}"
    if where == "layer":  # inside layers[1], right after its opening brace
        second = text.index('{"activation"', text.index('{"activation"') + 1)
        return text[: second + 1] + member + ", " + text[second + 1 :]
    return text.replace('"tolerance": {', '"tolerance": {' + member + ", ", 1)


@pytest.mark.parametrize(
    ("member", "where", "named"),
    [
        ('"learning_rate": 0.5', "top", "duplicate key 'learning_rate' at the top level"),
        ('"bias": 0.9', "layer", "duplicate key 'bias' in layers[1]"),
        ('"mode": "abs"', "tolerance", "duplicate key 'mode' in tolerance"),
    ],
)
def test_duplicate_json_key_is_refused_with_where(write: Any, member: str, where: str, named: str) -> None:
    """A key given twice in a JSON object is refused (as YAML and TOML do), naming the key and the
    object that repeats it; JSON itself would keep the last value silently."""
    text = _handout_json_with(member, where)
    assert json.loads(text)  # plain JSON reads it without a word
    assert named in _file_error(write("net.json", text))


def test_duplicate_key_is_refused_in_every_format(write: Any) -> None:
    """YAML, TOML and JSON all refuse a repeated key of the same spec."""
    toml = "inputs = [0.1]\ninputs = [0.2]\n"
    assert "invalid TOML" in _file_error(write("net.toml", toml))
    assert "duplicate key 'inputs'" in _file_error(write("net.yaml", "inputs: [0.1]\ninputs: [0.2]\n"))
    assert "duplicate key 'inputs'" in _file_error(write("net.json", '{"inputs": [0.1], "inputs": [0.2]}'))


def test_json_integer_too_long_to_convert(write: Any) -> None:
    """A JSON number of thousands of digits (beyond Python's int conversion limit) is one line."""
    text = json.dumps(handout_data()).replace('"learning_rate": 0.0001', '"learning_rate": ' + "7" * 5000)
    assert "a whole number of more than" in _file_error(write("net.json", text))


def test_json_integer_too_large_for_a_float(write: Any) -> None:
    """A 400-digit integer is valid JSON but no float64: the field says so, on one line."""
    text = json.dumps(handout_data()).replace('"learning_rate": 0.0001', '"learning_rate": ' + "7" * 400)
    assert "learning_rate: expected a number float64 can hold" in _file_error(write("net.json", text))


@pytest.mark.parametrize(
    ("points", "fragment"),
    [
        (float("nan"), "points.loss: expected a finite number"),
        (float("inf"), "points.loss: expected a finite number"),
        (-1.0, "points.loss: expected a number ≥ 0"),
        (1e308, "points.loss: expected a number ≤ 1000000"),
        (1_000_000.5, "points.loss: expected a number ≤ 1000000"),
    ],
)
def test_points_are_finite_and_bounded(points: float, fragment: str) -> None:
    """Per-item points are finite, not negative and at most MAX_POINTS (10^6)."""
    assert fragment in _error(edited(lambda d: d.update(points={"loss": points})))


def test_points_at_the_bound_are_accepted() -> None:
    """Exactly MAX_POINTS, and 0, are allowed."""
    spec = parse_spec(edited(lambda d: d.update(points={"loss": 1_000_000.0, "dL_dw1": 0.0})))
    assert spec.points == {"loss": 1_000_000.0, "dL_dw1": 0.0}


@pytest.mark.parametrize(
    ("tolerance", "fragment"),
    [
        ({"mode": "rel", "value": -0.01}, "tolerance.value: expected a number > 0"),
        ({"mode": "abs", "value": 0}, "tolerance.value: expected a number > 0"),
        ({"mode": "rel", "value": float("nan")}, "tolerance.value: expected a finite number"),
        ({"mode": "rel", "value": 1e300}, "tolerance.value: rel takes at most 1e+06"),
        ({"mode": "abs", "value": 2e6}, "tolerance.value: abs takes at most 1e+06"),
        ({"mode": "sigfig", "value": 2.5}, "tolerance.value: sigfig takes a whole number from 1 to 17"),
        ({"mode": "sigfig", "value": 18}, "tolerance.value: sigfig takes a whole number from 1 to 17"),
        ({"mode": "sigfig", "value": 1e308}, "tolerance.value: sigfig takes a whole number from 1 to 17"),
        ({"mode": "decimals", "value": 21}, "tolerance.value: decimals takes a whole number from 1 to 20"),
        ({"mode": "decimals", "value": 0.5}, "tolerance.value: decimals takes a whole number from 1 to 20"),
    ],
)
def test_tolerances_are_bounded(tolerance: dict[str, Any], fragment: str) -> None:
    """A tolerance that is not positive, not finite, wider than MAX_TOLERANCE, or a sigfig/decimals
    count that is not a whole number a float64 can hold is one line naming tolerance.value."""
    assert fragment in _error(edited(lambda d: d.update(tolerance=tolerance)))
    per_item = _error(edited(lambda d: d.update(tolerances={"dL_dw1": tolerance})))
    assert fragment.replace("tolerance.", "tolerances.dL_dw1.") in per_item


@pytest.mark.parametrize(
    "tolerance",
    [{"mode": "sigfig", "value": 17}, {"mode": "decimals", "value": 20}, {"mode": "rel", "value": 1e6}],
)
def test_tolerances_at_their_bounds_are_accepted(tolerance: dict[str, Any]) -> None:
    """The bounds themselves are valid tolerances."""
    assert parse_spec(edited(lambda d: d.update(tolerance=tolerance))).tolerance.value == tolerance["value"]


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(tolerance={"mode": "rel", "value": -1}),
        lambda d: d.update(tolerance={"mode": "relative"}),
        lambda d: d.update(tolerance={"mod": "rel"}),
        lambda d: d.update(tolerances={"dL_dw1": {"mode": "abs", "valeu": 1}}),
        lambda d: d.update(tolerances={"dL_dw1": 3}),
        lambda d: d.update(tolerances=[1]),
        lambda d: d.update(points={"loss": "two"}),
        lambda d: d.update(points=[1]),
        lambda d: d["layers"][0].update(bias={"x": 1}),
        lambda d: d.update(randomize={"weights": {"low": "a"}}),
        lambda d: d.update(randomize={"max_draws": 1e9}),
        lambda d: d.update(steps=10**30),
    ],
)
def test_every_validation_error_is_one_line_naming_its_field(
    change: Callable[[dict[str, Any]], None],
) -> None:
    """Whatever is wrong, the message is one line that names a field, never pydantic's dump."""
    message = _error(edited(change))
    assert "pydantic" not in message and "http" not in message and "input_value" not in message
    field = message.removeprefix("net.yaml: ").split(":")[0]
    assert field.split(".")[0].split("[")[0] in handout_data() | {
        "tolerances": 0,
        "points": 0,
        "randomize": 0,
    }


def test_unknown_key_in_a_per_item_tolerance_suggests_the_right_one() -> None:
    """The did-you-mean hint works in a mapping of models too (tolerances.<id>)."""
    message = _error(edited(lambda d: d.update(tolerances={"dL_dw1": {"mode": "abs", "valeu": 1}})))
    assert (
        "tolerances.dL_dw1.valeu: unknown key (did you mean 'value'?); expected one of mode, value" in message
    )


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_FIELDS = [
    ("inputs",), ("targets",), ("learning_rate",), ("decimals",), ("steps",), ("points",), ("tolerance",),
    ("tolerances",), ("loss",), ("title",), ("randomize",), ("layers", 0, "weights"), ("layers", 0, "bias"),
    ("layers", 1, "weights", 0), ("layers", 1, "activation"), ("layers", 0, "slope"), ("tolerance", "value"),
    ("weight_decay",), ("layers", 0, "weights", 0, 1),
]  # fmt: skip


@given(field=st.sampled_from(_FIELDS), value=_JSONISH | st.floats(min_value=1e150, max_value=1e308))
def test_any_value_in_any_field_is_a_spec_or_one_line(field: tuple[Any, ...], value: Any) -> None:
    """Whatever a spec field holds (random JSON-like structures, huge numbers), reading it gives a
    spec whose step is finite, or one SpecError line naming the file: never another exception."""
    from gradegen.core.training import evaluate_spec

    data = handout_data()
    target: Any = data
    for part in field[:-1]:
        target = target[part]
    target[field[-1]] = value
    try:
        spec = parse_spec(data, source="net.yaml")
        evaluate_spec(spec, source="net.yaml")
    except SpecError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("net.yaml: ")
