"""One typed shape per Sentry object, and the one conversion between it and Pulumi's dict props.

Each resource declares its inputs once, as a :class:`SentryModel` (pydantic v2): the field's type (the constrained
types of :mod:`infra.fields`, shared with the settings model), its default, its Pulumi property name (the alias) and,
in :func:`field`, how it meets Sentry: the key of the request body it is sent under, where Sentry's answer holds
it, how a value is compared (so that refresh shows real drift only) and whether a change replaces the object. The
same declaration feeds the provider's schema (:mod:`infra.provider.schema`).

Dict props exist only at the Pulumi boundary, made and read by the generic functions here and nowhere else:

* :func:`props_of`: a model (in the program: values another resource gives are still ``Output``\\ s) -> props;
* :func:`parse`: props (or a stored state: extra keys such as the dynamic providers' ``__provider`` are ignored)
  -> the model;
* :func:`check_props`: the problems of props as a list of (property, reason), a value unknown in preview skipped;
* :func:`changes`: what differs between a stored state and new props, each field compared as declared;
* :func:`infra.sentry.bodies.body_of` / :func:`~infra.sentry.bodies.live_of`: a model -> a request body, and
  Sentry's answer -> the declared fields (by each field's ``body``/``read`` path).

A value not known yet (an ``Output`` of another resource in the program, an unknown in a preview) is *deferred*:
validation checks every other field and keeps it as it is, and the rules between fields (:func:`field_rule`) wait
until everything is known; so a model holds it until the boundary. A program declares a model with deferred values
with ``Model.model_construct(...)`` (which mypy checks field by field) passed through :func:`declared`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any, ClassVar, Literal, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from infra.unknown import is_unknown

Norm = Callable[[Any], Any]
Unset = Literal["keep", "default"]
M = TypeVar("M", bound="SentryModel")
T = TypeVar("T")


def same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Sentry:
    """How one field meets Sentry (metadata of a :class:`SentryModel` field; see :func:`field`)."""

    #: dotted path of the request body the value is sent under (``config.checkin_margin``); None: never sent
    body: str | None = None
    #: where Sentry's answer holds it, when not at `body`; alternatives separated by ``|``, first found wins
    read: str | None = None
    #: the form a value is compared (and stored) in, e.g. :func:`infra.sentry.compare.as_int`
    compare: Norm = same
    #: compare only the keys of the stored value (a map) that the declaration has
    projected: bool = False
    #: False for a create-time hint (never compared, e.g. ``lookupFirst``)
    diff: bool = True
    #: a change replaces the object
    replace: bool = False
    #: what leaving it out means to a diff: ``keep`` (not managed: not compared) or ``default`` (its default)
    unset: Unset | None = None
    #: a secret output (``additional_secret_outputs``; ``secret: true`` in the schema)
    secret: bool = False


def field(
    name: str,
    default: Any = PydanticUndefined,
    *,
    description: str | None = None,
    body: str | None = None,
    read: str | None = None,
    compare: Norm = same,
    projected: bool = False,
    diff: bool = True,
    replace: bool = False,
    unset: Unset | None = None,
    secret: bool = False,
    sent: bool = True,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """A model field named `name` in Pulumi's props; sent to Sentry under `body` (default: `name`; `sent=False`:
    a field of the provider only, never sent)."""
    if default_factory is not None:
        info = Field(default_factory=default_factory, alias=name, description=description)
    else:
        info = Field(default, alias=name, description=description)
    meta = Sentry(body=(body or name) if sent else None, read=read, compare=compare, projected=projected, diff=diff,
                  replace=replace, unset=unset, secret=secret)
    info.metadata.append(meta)
    return info


def meta_of(info: FieldInfo) -> Sentry:
    return next((m for m in info.metadata if isinstance(m, Sentry)), Sentry())


def is_deferred(value: Any) -> bool:
    """True for a value not known yet: an ``Output`` (in a program) or a preview-time unknown, however deep."""
    if is_unknown(value):
        return True
    if type(value).__name__ == "Output" and type(value).__module__ == "pulumi.output":
        return True
    if isinstance(value, Mapping):
        return any(is_deferred(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_deferred(v) for v in value)
    return False


class FieldErrors(ValueError):
    """The problems of the known fields of a model that holds deferred values (pydantic's error dicts)."""

    def __init__(self, errors: list[Any]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


@cache
def _adapter(cls: type[SentryModel], name: str) -> TypeAdapter[Any]:
    info = cls.model_fields[name]
    return TypeAdapter(info.rebuild_annotation(), config=ConfigDict(regex_engine="python-re",
                                                                     arbitrary_types_allowed=True))


class SentryModel(BaseModel):
    """Base of the Sentry resources' inputs (and their stored states): frozen, Pulumi's property names as aliases,
    keys it does not declare ignored (a state's outputs, ``__provider`` of the dynamic providers)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore", regex_engine="python-re",
                              arbitrary_types_allowed=True)
    #: what leaving a field out means to a diff, unless the field says otherwise
    UNSET: ClassVar[Unset] = "keep"

    @model_validator(mode="wrap")
    @classmethod
    def _deferred(cls, data: Any, handler: Callable[[Any], Self]) -> Self:
        """Validate the known values, keep the deferred ones as they are (each field alone: rules between fields
        wait until everything is known). Reached through ``model_validate`` (:func:`parse`, :func:`declared`):
        pydantic's ``__init__`` cannot take a model other than the one it fills."""
        if not isinstance(data, Mapping) or not any(is_deferred(v) for v in data.values()):
            return handler(data)
        names = {info.alias or name: name for name, info in cls.model_fields.items()} | {
            name: name for name in cls.model_fields}
        values: dict[str, Any] = {}
        errors: list[Any] = []
        for key, value in data.items():
            name = names.get(key)
            if name is None:
                continue
            if is_deferred(value):
                values[name] = value
                continue
            try:
                values[name] = _adapter(cls, name).validate_python(value)
            except ValidationError as exc:
                errors += [{**e, "loc": (key, *e["loc"])} for e in exc.errors()]
        for name, info in cls.model_fields.items():
            if info.is_required() and name not in values and not any(names.get(k) == name for k in data):
                errors.append({"type": "missing", "loc": (info.alias or name,), "msg": "Field required"})
        if errors:
            raise FieldErrors(errors)
        return cast(Self, cls.model_construct(**values))

    def deferred(self) -> list[str]:
        """The props (by Pulumi name) whose value is not known yet."""
        return [info.alias or name for name, info in type(self).model_fields.items()
                if is_deferred(getattr(self, name))]


def field_rule(check: Callable[[M], M]) -> Any:
    """A rule between a model's fields (a pydantic "after" model validator) that waits until every value is known:
    with a deferred value, the model is kept as it is."""

    @wraps(check)
    def run(self: M) -> M:
        return self if self.deferred() else check(self)

    return model_validator(mode="after")(run)


# --------------------------------------------------------------------------- the Pulumi boundary


def plain_value(value: Any) -> Any:
    """A value as props hold it: nested models as dicts (an ``Output`` as it is)."""
    if isinstance(value, BaseModel):
        return props_of(value)
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    return value


def props_of(model: BaseModel) -> dict[str, Any]:
    """A model as Pulumi props: Pulumi names, nested models as dicts, None left out (an ``Output`` as it is)."""
    out: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name, None)
        if value is not None:
            out[info.alias or name] = plain_value(value)
    return out


def parse(cls: type[M], props: Mapping[str, Any]) -> M:
    """Props (or a stored state) as `cls`; raises ValidationError naming the props."""
    return cls.model_validate({k: v for k, v in props.items() if v is not None})


def declared(model: M) -> M:
    """`model`, made with ``model_construct`` (whose arguments mypy checks), with its values validated (a deferred
    value kept as it is): how a program declares typed inputs that hold other resources' outputs."""
    return parse(type(model), {name: getattr(model, name) for name in model.model_fields_set})


def parse_state(cls: type[M], state: Mapping[str, Any]) -> M:
    """A stored state (or inputs already checked) as `cls`, never refused: a value its field would not accept
    (one Sentry holds, such as a name longer than ours may be) is kept as it is."""
    props = {k: v for k, v in state.items() if v is not None}
    try:
        return cls.model_validate(props)
    except ValidationError:
        pass
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        key = info.alias or name
        if key not in props and name not in props:
            continue
        value = props.get(key, props.get(name))
        try:
            values[name] = _adapter(cls, name).validate_python(value)
        except ValidationError:
            values[name] = value
    return cast(M, cls.model_construct(**values))


def inputs_of_state(cls: type[SentryModel], state: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs part of a stored state (what ``read()`` gives as inputs): the declared fields it has."""
    return {key: state[key] for _n, key, _i, _m in fields_of(cls) if state.get(key) is not None}


def check_props(cls: type[SentryModel], props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem of `props` as (Pulumi property, reason); values unknown in preview are not checked."""
    try:
        parse(cls, props)
    except ValidationError as exc:
        found: list[tuple[str, str]] = []
        for err in exc.errors(include_url=False):
            inner = (err.get("ctx") or {}).get("error")
            errs = inner.errors if isinstance(inner, FieldErrors) else [err]
            found += [_failure(e, _bounds(cls, e)) for e in errs]
        names = {key for _n, key, _i, _m in fields_of(cls)}
        # a rule between fields names the field it is about first ("queryType 1 does not match ...")
        return [(prop or next((w for w in reason.split()[:1] if w in names), ""), reason) for prop, reason in found]
    return []


_WORDS = {
    "missing": "required",
    "model_type": "must be an object", "model_attributes_type": "must be an object", "dict_type": "must be an object",
    "list_type": "must be a list", "too_short": "must not be empty", "tuple_type": "must be a list",
    "string_type": "must be a string",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "int_type": "must be a whole number", "int_parsing": "must be a whole number", "int_from_float": "must be a whole"
    " number", "float_type": "must be a number", "float_parsing": "must be a number",
}


def _bounds(cls: type[SentryModel], err: Any) -> str | None:
    """``low..high`` of the (top-level) field a range error is about."""
    loc = err.get("loc", ())
    if str(err.get("type")) not in _RANGES or len(loc) != 1:
        return None
    info = next((i for n, i in cls.model_fields.items() if loc[0] in (n, i.alias)), None)
    if info is None:
        return None
    low = next((getattr(m, "ge", None) for m in info.metadata if getattr(m, "ge", None) is not None), "")
    high = next((getattr(m, "le", None) for m in info.metadata if getattr(m, "le", None) is not None), "")
    return f"{low}..{high}"


_RANGES = ("greater_than_equal", "less_than_equal", "greater_than", "less_than")


def _failure(err: Any, bounds: str | None = None) -> tuple[str, str]:
    loc = [str(p) for p in err.get("loc", ())]
    prop = loc[0] if loc else ""
    where = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc[1:])
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    message = _WORDS.get(str(err.get("type")), message)
    if bounds is not None:
        message = f"out of range; allowed: {bounds}"
    if err.get("type") == "literal_error":
        message = f"must be one of {(err.get('ctx') or {}).get('expected')}"
    return prop, f"{prop}{where}: {message}" if prop else message


# --------------------------------------------------------------------------- comparing


@cache
def fields_of(cls: type[SentryModel]) -> tuple[tuple[str, str, FieldInfo, Sentry], ...]:
    """(attribute, Pulumi name, FieldInfo, metadata) of each field of `cls` (worked out once per class: the provider
    asks for them on every check and diff)."""
    return tuple((name, info.alias or name, info, meta_of(info)) for name, info in cls.model_fields.items())


def normalised(cls: type[SentryModel], key: str, value: Any) -> Any:
    """`value` of the field named `key` in the form it is compared in (its declaration's ``compare``)."""
    info = next((i for n, i in cls.model_fields.items() if key in (n, i.alias)), None)
    return value if info is None else meta_of(info).compare(value)


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return None if info.default is PydanticUndefined else info.default


def changes(cls: type[SentryModel], olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(changed, replaced) Pulumi names: each field of `news` against the stored state `olds`, compared as declared;
    a value unknown in preview counts as changed."""
    changed: list[str] = []
    for _name, key, info, meta in fields_of(cls):
        if not meta.diff:
            continue
        new = news.get(key)
        if is_unknown(new):
            changed.append(key)
            continue
        old = olds.get(key)
        if new is None:
            if (meta.unset or cls.UNSET) == "keep":
                continue
            new = _default(info)
        if old is None and (meta.unset or cls.UNSET) == "default":
            old = _default(info)
        if meta.projected and isinstance(new, Mapping):
            old = {k: (old or {}).get(k) for k in new} if isinstance(old, Mapping) or old is None else old
        if meta.compare(new) != meta.compare(old):
            changed.append(key)
    replaced = [key for _n, key, _i, meta in fields_of(cls) if meta.replace and key in changed]
    return changed, replaced


def secret_outputs(cls: type[SentryModel]) -> list[str]:
    return [key for _n, key, _i, meta in fields_of(cls) if meta.secret]


def known(value: T | None, what: str) -> T:
    """`value`, which must be known (a provider's create, read, update and delete always get known values)."""
    if value is None or is_deferred(value):
        raise ValueError(f"{what} is not known")
    return value


__all__ = [
    "Norm",
    "Sentry",
    "SentryModel",
    "changes",
    "check_props",
    "declared",
    "field",
    "field_rule",
    "fields_of",
    "inputs_of_state",
    "is_deferred",
    "known",
    "meta_of",
    "normalised",
    "parse",
    "parse_state",
    "plain_value",
    "props_of",
    "same",
    "secret_outputs",
]
