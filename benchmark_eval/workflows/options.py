"""The one options layer: parameters from a model, a dict, a preset name or a preset file.

Every protocol's ``params`` go through :func:`coerce_params`, so the API, the CLI's
``--config`` and a saved preset accept the same things everywhere. Presets ship inside the
package (``benchmark_eval/presets/*.json``); their ``protocol`` and ``description`` keys are
documentation and ignored.
"""

from __future__ import annotations

__all__ = ["PRESETS", "coerce_params", "config_error", "preset_names", "read_preset"]

from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from benchmark_eval.errors import ConfigError, InputError
from benchmark_eval.io.jsonfile import read_json

ParamsT = TypeVar("ParamsT", bound=BaseModel)
PRESETS = "presets"  # package folder of the bundled presets
_DOC_KEYS = ("protocol", "description")


def preset_names() -> list[str]:
    """Names of the bundled presets (``--config NAME``)."""
    folder = resources.files("benchmark_eval").joinpath(PRESETS)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def read_preset(source: str | Path) -> dict[str, Any]:
    """The parameters of a preset: a bundled preset's name (``"coco-bbox"``) or a JSON file.

    Raises:
        ConfigError: Unknown name, unreadable file, or not a JSON object.
    """
    path = Path(source)
    if not path.suffix and not path.exists() and str(source) in preset_names():
        folder = resources.files("benchmark_eval").joinpath(PRESETS)
        path = Path(str(folder.joinpath(f"{source}.json")))
    elif not path.exists():
        names = ", ".join(preset_names())
        raise ConfigError(f"--config {source}: no such file, and not a bundled preset"
                          f" ({names})")
    try:
        data = read_json(path)
    except InputError as exc:
        raise ConfigError(f"cannot use --config {source}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a JSON object of parameters")
    return {k: v for k, v in data.items() if k not in _DOC_KEYS}


def config_error(what: str, exc: ValidationError | ValueError) -> ConfigError:
    """A readable :class:`ConfigError` from a pydantic error: one ``field: message`` per
    problem, without pydantic's URLs."""
    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors(include_url=False):
            loc = ".".join(str(x) for x in e["loc"]) or "parameters"
            parts.append(f"{loc}: {e['msg']}")
        return ConfigError(f"{what}: " + "; ".join(parts))
    return ConfigError(f"{what}: {exc}")


def coerce_params(model: type[ParamsT], params: Any = None, *, protocol: str,
                  defaults: dict[str, Any] | None = None,
                  overrides: dict[str, Any] | None = None) -> ParamsT:
    """``params`` as an instance of ``model``.

    Args:
        model: The protocol's parameter model.
        params: None (the official preset), an instance of ``model`` or of a related
            model (its set fields are kept), a dict of fields, or a preset name / file.
        protocol: For error messages.
        defaults: Fields used where ``params`` does not set them (``semantic-binary``).
        overrides: Fields that win over ``params`` (CLI options such as ``--num-classes``).

    Raises:
        ConfigError: Unknown preset, unreadable file or invalid parameters.
    """
    if type(params) is model and not defaults and not overrides:
        return params
    data: dict[str, Any] = dict(defaults or {})
    if isinstance(params, BaseModel):
        # a related model (CocoParams given to coco-boundary) passes every field, so fields the
        # target lacks are refused rather than dropped
        data.update(params.model_dump(exclude_unset=type(params) is model))
    elif isinstance(params, (str, Path)):
        data.update(read_preset(params))
    elif isinstance(params, dict):
        data.update({k: v for k, v in params.items() if k not in _DOC_KEYS})
    elif params is not None:
        raise ConfigError(f"parameters for {protocol} must be a {model.__name__}, a dict or a"
                          f" preset name / file, got {type(params).__name__}")
    data.update(overrides or {})
    try:
        return model(**data)
    except (ValidationError, ValueError, TypeError) as exc:
        where = f"{params}" if isinstance(params, (str, Path)) else protocol
        if isinstance(exc, TypeError):
            raise ConfigError(f"invalid parameters for {where}: {exc}") from exc
        raise config_error(f"invalid parameters for {where}", exc) from exc
