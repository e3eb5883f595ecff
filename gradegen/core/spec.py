"""The network spec: a frozen, validated model of what the instructor wrote.

Reading files (YAML, JSON, TOML) is :mod:`gradegen.core.reading`; this module validates the data.

Every problem is reported as one :class:`SpecError` whose message names the field
(``layers[1].weights``) and says what was expected.
"""

from __future__ import annotations

import difflib
import math
import re
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gradegen.core.options import Diagram, Level, Style, default_style
from gradegen.core.reading import format_of, parse_text, read_text
from gradegen.errors import SpecError, quoted
from gradegen.presets import Preset

MAX_PARAMETERS = 10_000
"""Default size limit: documents are for working by hand."""

MAX_STEPS = 10_000
"""Training steps ``solve`` runs at most (the spec's ``steps`` and ``solve --steps``)."""

MAX_POINTS = 1_000_000.0
"""Points one item may carry: far beyond any marking scheme, and small enough that no total or
mean over a class (items × points × students) comes near float64's limit."""

MAX_SIGFIGS = 17
"""A float64 holds 17 significant figures: a ``sigfig`` tolerance cannot ask for more."""

MAX_DECIMALS = 20
"""The most decimal places a ``decimals`` tolerance may ask (hand values keep at most 15)."""

MAX_TOLERANCE = 1_000_000.0
"""The widest ``rel`` (a factor) or ``abs`` tolerance: beyond it every answer would pass."""

DEFAULT_TITLE = "Backpropagation exercise"


class Activation(StrEnum):
    SIGMOID = "sigmoid"
    TANH = "tanh"
    RELU = "relu"
    LEAKY_RELU = "leaky_relu"
    LINEAR = "linear"
    SOFTMAX = "softmax"


class Loss(StrEnum):
    HALF_MSE = "half_mse"
    SSE = "sse"
    MSE = "mse"
    BCE = "bce"
    CROSS_ENTROPY = "cross_entropy"


class ToleranceMode(StrEnum):
    """How an answer is compared with the key (PrairieLearn's comparison modes)."""

    REL = "rel"  # |x − e| ≤ value·|e|
    ABS = "abs"  # |x − e| ≤ value
    SIGFIG = "sigfig"  # agrees with e to `value` significant figures
    DECIMALS = "decimals"  # agrees with e to `value` decimal places


Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Points = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_POINTS)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tolerance(_Model):
    """A comparison rule; the default accepts answers within 1% of the key."""

    mode: ToleranceMode = ToleranceMode.REL
    value: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)] = 0.01

    @model_validator(mode="after")
    def _bounded(self) -> Tolerance:
        # A key is hand-editable: refuse a rule that would overflow or accept every answer.
        if self.mode in (ToleranceMode.SIGFIG, ToleranceMode.DECIMALS):
            top = MAX_SIGFIGS if self.mode is ToleranceMode.SIGFIG else MAX_DECIMALS
            if self.value != int(self.value) or not 1 <= self.value <= top:
                raise ValueError(
                    f"value: {self.mode} takes a whole number from 1 to {top}, got {self.value:g}"
                )
        elif self.value > MAX_TOLERANCE:
            raise ValueError(f"value: {self.mode} takes at most {MAX_TOLERANCE:g}, got {self.value:g}")
        return self


class Layer(_Model):
    """One layer: a row of weights per neuron, one entry per unit feeding it."""

    activation: Activation
    weights: tuple[tuple[Number, ...], ...]
    bias: Number | tuple[Number, ...]
    slope: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)] = 0.01
    name: str | None = None

    @property
    def size(self) -> int:
        return len(self.weights)

    @property
    def shared_bias(self) -> bool:
        return not isinstance(self.bias, tuple)

    def biases(self) -> tuple[float, ...]:
        """The distinct bias parameters, in numbering order."""
        return self.bias if isinstance(self.bias, tuple) else (self.bias,)


class Draw(_Model):
    """How one group of numbers (inputs, targets, weights, biases, learning rate) is drawn.

    Either a range ``{low, high, decimals}`` (uniform over the numbers with ``decimals`` places in
    [low, high]), or ``{choices: [...]}`` (each number one of these), or ``{keep: true}`` (the
    spec's own numbers). For cross_entropy targets only ``decimals`` (a distribution rounded to
    that many places; 0 gives one-hot targets) or ``keep`` apply.
    """

    low: Number | None = None
    high: Number | None = None
    decimals: Annotated[int, Field(strict=True, ge=0, le=10)] | None = None
    choices: tuple[Number, ...] | None = None
    keep: Annotated[bool, Field(strict=True)] = False


class Randomize(_Model):
    """Per-student variants: how each group is drawn and the constraints every variant meets."""

    inputs: Draw | None = None
    targets: Draw | None = None
    weights: Draw | None = None
    biases: Draw | None = None
    learning_rate: Draw | None = None
    max_abs_z: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)] = 4.0
    min_loss: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)] = 0.001
    min_magnitude: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)] | None = None
    distinct_weights: Annotated[bool, Field(strict=True)] = True
    max_draws: Annotated[int, Field(strict=True, ge=1, le=1000)] = 50

    GROUPS: ClassVar[tuple[str, ...]] = ("inputs", "targets", "weights", "biases", "learning_rate")


class Documents(_Model):
    """How the documents teach the network (see :mod:`gradegen.core.options`)."""

    style: Style | None = None  # None: by size (default_style)
    notes: Annotated[bool, Field(strict=True)] = True
    diagram: Diagram = Diagram.PLAIN
    level: Level = Level.STANDARD


class Spec(_Model):
    """A network and one training example, as the instructor wrote it."""

    title: str = DEFAULT_TITLE
    course: str | None = None
    instructions: str | None = None
    inputs: tuple[Number, ...]
    targets: tuple[Number, ...]
    layers: tuple[Layer, ...]
    loss: Loss = Loss.HALF_MSE
    learning_rate: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]
    update_biases: Annotated[bool, Field(strict=True)] = True
    weight_decay: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)] = 0.0
    decimals: Annotated[int, Field(strict=True, ge=0, le=10)] = 4
    steps: Annotated[int, Field(strict=True, ge=1, le=MAX_STEPS)] = 1
    tolerance: Tolerance = Tolerance()
    tolerances: dict[str, Tolerance] = Field(default_factory=dict)  # per quantity id
    points: dict[str, Points] = Field(default_factory=dict)
    randomize: Randomize | None = None  # per-student variants (see gradegen.variants.draw)
    documents: Documents = Documents()

    @property
    def parameter_count(self) -> int:
        return sum(layer.size * len(layer.weights[0]) + len(layer.biases()) for layer in self.layers)

    @property
    def style(self) -> Style:
        """The solution's style: the spec's, or the default for its size."""
        return self.documents.style or default_style(self.parameter_count)

    def to_data(self) -> dict[str, Any]:
        """The normalised spec as plain JSON-ready data (the form a key stores); ``randomize`` and
        ``documents`` only when the spec has them (and then without unset fields)."""
        data = self.model_dump(mode="json", exclude={"randomize", "documents"})
        if self.documents != Documents():  # how the documents look, kept only when chosen
            data["documents"] = self.documents.model_dump(mode="json", exclude_defaults=True)
        if self.randomize is not None:
            data["randomize"] = self.randomize.model_dump(mode="json", exclude_none=True)
        return data


def load_spec(source: str | Path | None = None, *, max_parameters: int = MAX_PARAMETERS) -> Spec:
    """Read and validate a spec file (its step worked out finite); ``None`` gives the handout network."""
    if source is None:
        return preset("handout")
    path = Path(source)
    text = read_text(path)
    data = parse_text(text, fmt=format_of(path), source=str(path))
    if isinstance(data, dict) and "title" not in data:
        data = {"title": path.stem, **data}
    spec = parse_spec(data, source=str(path), max_parameters=max_parameters)
    # A spec must also be solvable: one step evaluated, refused when float64 overflows (training
    # imports this module, hence the late import).
    from gradegen.core.training import evaluate_spec

    evaluate_spec(spec, source=str(path))
    return spec


def preset_text(name: str | Preset) -> str:
    """The commented starter spec for a built-in network (``handout`` or ``mazur``)."""
    if name not in set(Preset):
        choices = ", ".join(Preset)
        raise SpecError(f"unknown preset {name!r}; expected one of {choices}")
    return resources.files("gradegen.presets").joinpath(f"{name}.yaml").read_text("utf-8")


def preset(name: str | Preset) -> Spec:
    """A built-in network as a validated spec."""
    return parse_spec(parse_text(preset_text(name), source=str(name)), source=f"preset {name}")


# --------------------------------------------------------------------------- validation


def parse_spec(data: Any, *, source: str = "spec", max_parameters: int = MAX_PARAMETERS) -> Spec:
    """Validate plain data (as read from a file) into a :class:`Spec`."""
    if data is None:
        raise SpecError(
            "empty file; expected a mapping with inputs, targets, layers and learning_rate",
            source=source,
        )
    if not isinstance(data, dict):
        raise SpecError(f"expected a mapping of fields at the top level, got {_kind(data)}", source=source)
    if "layers" in data and isinstance(data["layers"], list | tuple) and not data["layers"]:
        raise SpecError("layers: expected at least one layer (the output layer), got none", source=source)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(describe_error(exc), source=source) from None
    check_network(spec, source=source, max_parameters=max_parameters)
    return spec


def check_network(spec: Spec, *, source: str = "spec", max_parameters: int = MAX_PARAMETERS) -> None:
    """Check what field types cannot: shapes, layer order and loss/target consistency."""

    def fail(message: str) -> None:
        raise SpecError(message, source=source)

    if not spec.inputs:
        fail("inputs: expected at least one number")
    if not spec.targets:
        fail("targets: expected at least one number (one per output unit)")
    fan_in = len(spec.inputs)
    feeding = "inputs"
    last = len(spec.layers) - 1
    names: set[str] = set()
    for i, layer in enumerate(spec.layers):
        where = f"layers[{i}]"
        rows = layer.weights
        if (i == last and len(rows) != len(spec.targets)) or not rows:
            n = len(spec.targets) if i == last else 1
            why = "one neuron per target" if i == last else "at least one neuron"
            fail(
                f"{where}.weights: expected {_count(n, 'row')} of {_count(fan_in, 'number')} "
                f"({_count(n, 'neuron')} fed by {_count(fan_in, 'unit')}, {why}), "
                f"got {_count(len(rows), 'row')}"
            )
        for r, row in enumerate(rows):
            if len(row) != fan_in:
                fail(
                    f"{where}.weights[{r}]: expected {_count(fan_in, 'number')} "
                    f"(one per unit of {feeding}), got {len(row)}"
                )
        if isinstance(layer.bias, tuple) and len(layer.bias) != len(rows):
            fail(
                f"{where}.bias: expected one shared number or {_count(len(rows), 'number')} "
                f"(one per neuron), got {_count(len(layer.bias), 'number')}"
            )
        if layer.activation is Activation.SOFTMAX and i != last:
            fail(f"{where}.activation: softmax is only allowed on the output layer")
        if layer.activation is Activation.SOFTMAX and len(rows) < 2:
            fail(f"{where}.activation: softmax needs at least 2 output units, got 1")
        if layer.name is not None:
            if i == last:
                fail(f"{where}.name: the output layer's units are always named out or o1, o2, …")
            if not re.fullmatch(r"[A-Za-z]+", layer.name) or layer.name in RESERVED_NAMES:
                fail(
                    f"{where}.name: expected letters only, not one of "
                    f"{', '.join(sorted(RESERVED_NAMES))}; got {layer.name!r}"
                )
            if layer.name in names:
                fail(f"{where}.name: {layer.name!r} is already used by another layer")
            names.add(layer.name)
        fan_in = len(rows)
        feeding = f"layers[{i}]"
    out = spec.layers[-1].activation
    if spec.loss in (Loss.BCE, Loss.CROSS_ENTROPY):
        if out not in (Activation.SIGMOID, Activation.SOFTMAX):
            fail(
                f"loss: {spec.loss} needs outputs between 0 and 1 (a sigmoid or softmax output "
                f"layer), got {out}"
            )
        for k, t in enumerate(spec.targets):
            if not 0.0 <= t <= 1.0:
                fail(f"targets[{k}]: {spec.loss} needs targets in [0, 1], got {t:g}")
    if spec.loss is Loss.CROSS_ENTROPY and not math.isclose(sum(spec.targets), 1.0, abs_tol=1e-9):
        fail(
            f"targets: cross_entropy needs targets that sum to 1 (a distribution), "
            f"got sum {sum(spec.targets):g}"
        )
    if spec.randomize is not None:
        check_randomize(spec, source=source)
    count = spec.parameter_count
    if count > max_parameters:
        fail(
            f"layers: the network has {count:,} parameters, over the limit of {max_parameters:,} "
            "(documents are for working by hand)"
        )


def check_randomize(spec: Spec, *, source: str = "spec") -> None:
    """Check a ``randomize:`` section against itself and the network it randomizes."""
    assert spec.randomize is not None

    def fail(message: str) -> None:
        raise SpecError(message, source=source)

    for group in Randomize.GROUPS:
        draw: Draw | None = getattr(spec.randomize, group)
        if draw is None:
            continue
        where = f"randomize.{group}"
        is_range = draw.low is not None or draw.high is not None
        distribution = group == "targets" and spec.loss is Loss.CROSS_ENTROPY
        if draw.keep:
            if is_range or draw.choices is not None or draw.decimals is not None:
                fail(f"{where}: keep: true takes no other settings")
            continue
        if distribution:
            if is_range or draw.choices is not None:
                fail(
                    f"{where}: cross_entropy targets are drawn as a distribution; give decimals "
                    "(0 for one-hot targets) or keep: true, not low/high or choices"
                )
            if draw.decimals is None:
                fail(f"{where}.decimals: required (places of the target distribution; 0 for one-hot)")
            continue
        if draw.choices is not None:
            if is_range or draw.decimals is not None:
                fail(f"{where}: give either low and high (and decimals) or choices, not both")
            if not draw.choices:
                fail(f"{where}.choices: expected at least one number")
            values = [(f"{where}.choices[{k}]", v) for k, v in enumerate(draw.choices)]
        elif is_range:
            for end in ("low", "high"):
                if getattr(draw, end) is None:
                    fail(f"{where}.{end}: required field is missing (a range needs low and high)")
            assert draw.low is not None and draw.high is not None
            if draw.low > draw.high:
                fail(f"{where}: low {draw.low:g} is greater than high {draw.high:g}")
            places = 2 if draw.decimals is None else draw.decimals
            scale = 10.0**places
            if math.floor(draw.high * scale + 1e-9) < math.ceil(draw.low * scale - 1e-9):
                fail(
                    f"{where}: no number with {_count(places, 'decimal place')} lies between "
                    f"low {draw.low:g} and high {draw.high:g}"
                )
            values = [(f"{where}.low", draw.low), (f"{where}.high", draw.high)]
        else:
            fail(f"{where}: expected low and high (and decimals), choices, or keep: true")
        for field, v in values:
            if group == "learning_rate" and v <= 0:
                fail(f"{field}: the learning rate must be greater than 0, got {v:g}")
            if group == "targets" and spec.loss is Loss.BCE and not 0.0 <= v <= 1.0:
                fail(f"{field}: bce needs targets in [0, 1], got {v:g}")


RESERVED_NAMES = frozenset({"x", "y", "w", "b", "o", "out", "lr", "loss"})


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return quoted(value)


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model whose unknown key is at ``loc`` (for the did-you-mean hint), found by walking the
    field types from ``root``; a part that is no field is a mapping's key and is passed over."""
    model = root
    for part in loc[:-1]:
        if isinstance(part, str) and part in model.model_fields:
            model = _model_in(model.model_fields[part].annotation) or model
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field's type holds (``Draw | None``, ``tuple[Layer, ...]``, ``dict[str, Tolerance]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def describe_error(exc: ValidationError, model: type[BaseModel] | None = None) -> str:
    """One line for the most specific of pydantic's errors, naming the field (``model``: the one
    validated, :class:`Spec` by default)."""
    errors = exc.errors()
    first = errors[0]
    # Union members (bias: number | list) add a tag such as 'float' to the location; report the
    # deepest error among the first field's, stripped of those tags.
    field_of = first["loc"][: 3 if first["loc"][:1] == ("layers",) else 1]
    same_field = [e for e in errors if e["loc"][: len(field_of)] == field_of]
    error = max(same_field, key=lambda e: len([p for p in e["loc"] if isinstance(p, int)]))
    loc = tuple(p for p in error["loc"] if isinstance(p, int) or ("[" not in p and p not in _TAGS))
    where = _path(loc)
    kind = error["type"]
    got = _kind(error.get("input"))
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(model or Spec, loc)
        close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        allowed = ", ".join(model.model_fields)
        return f"{where}: unknown key{hint}; expected one of {allowed}"
    if kind == "missing":
        return f"{where}: required field is missing"
    if kind in ("float_type", "float_parsing"):
        value = error.get("input")
        if isinstance(value, int) and not isinstance(value, bool):  # a whole number past float64
            return f"{where}: expected a number float64 can hold (up to about 1.8e308), got {got}"
        return f"{where}: expected a number, got {got}"
    if kind == "finite_number":
        return f"{where}: expected a finite number, got {error.get('input')}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where}: expected a whole number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{where}: expected true or false, got {got}"
    if kind in ("string_type",):
        return f"{where}: expected text, got {got}"
    if kind in ("list_type", "tuple_type"):
        return f"{where}: expected a list, got {got}"
    if kind == "enum":
        return f"{where}: expected one of {ctx.get('expected', '')}; got {got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}[kind]
        bound = next(iter(ctx.values()), "")
        return f"{where}: expected a number {op} {bound}, got {got}"
    if kind == "model_type":
        return f"{where}: expected a mapping of fields, got {got}"
    if kind in ("dict_type", "dict_parsing"):
        return f"{where}: expected a mapping, got {got}"
    if kind == "value_error":  # our validators' messages start with the field they are about
        text = str(ctx.get("error", error["msg"]))
        return f"{where}.{text}" if where else text
    return f"{where}: {error['msg']}"


_TAGS = {"float", "int", "bool", "str", "function-after", "function-before", "constrained-float"}
