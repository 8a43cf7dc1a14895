"""Pieces every result shares."""

from __future__ import annotations

__all__ = ["none_if_undefined", "package_versions"]

from importlib import metadata


def package_versions(*packages: str) -> dict[str, str]:
    """Installed versions of benchmark-eval, numpy and ``packages`` (for reports)."""

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {pkg: version(pkg) for pkg in ("benchmark-eval", "numpy", *packages)}


def none_if_undefined(value: float) -> float | None:
    """The official tools' -1 for "undefined" as ``None`` (``null`` in JSON)."""
    return None if value == -1 else float(value)
