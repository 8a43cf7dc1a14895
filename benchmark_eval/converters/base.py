"""What every converter provides to the CLI: the entry type of the converter registry.

A :class:`Converter` pairs one library function (``convert_*``, which reads and writes the
files and returns a summary) with its command-line options, as a
:class:`~benchmark_eval.workflows.Workflow` does for a protocol. The CLI only dispatches by
name through :data:`benchmark_eval.converters.CONVERTERS` and prints what ``run`` returns.
"""

from __future__ import annotations

__all__ = ["Converted", "Converter", "add_force", "add_json_output", "check_outputs",
           "png_folder", "wrote_instances", "wrote_panoptic"]

import argparse
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark_eval.io.panoptic_png import default_folder
from benchmark_eval.io.safe import check_output


def png_folder(panoptic: Any, folder: str | Path | None) -> list[Any]:
    """The inputs of a COCO panoptic source: the JSON and its PNG folder (given, or derived
    from the JSON path as panopticapi does)."""
    if folder is None and isinstance(panoptic, (str, Path)):
        folder = default_folder(panoptic)
    return [panoptic, folder]


def check_outputs(*, files: Iterable[Any] = (), folders: Iterable[Any] = (),
                  inputs: Iterable[Any] = (), force: bool = False) -> None:
    """Before any work: every output file and folder can be written and is not an input
    (in-memory ``inputs`` are skipped); an existing file, or a folder that is not empty,
    only with ``force`` (:func:`io.safe.check_output`).

    Raises:
        ConfigError: An output that cannot or must not be written.
    """
    paths = [Path(s) for s in inputs if isinstance(s, (str, Path))]
    for f in files:
        check_output(f, inputs=paths, force=force)
    for d in folders:
        check_output(d, inputs=paths, force=force, folder=True)


@dataclass(frozen=True)
class Converted:
    """What one conversion did.

    Attributes:
        name: The converter's name.
        summary: What the ``convert_*`` function returned (counts, output folders).
        message: One line for the user, e.g. ``"wrote pan.json: 2 images, 50 segments; ..."``.
    """

    name: str
    summary: Mapping[str, Any]
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Converter:
    """One conversion as the CLI sees it.

    Attributes:
        name: The sub-command, ``benchmark-eval convert NAME``.
        summary: One line for ``convert --help``: what becomes what, which tool it mirrors.
        convert: The library function; called with the parsed options whose ``dest`` is one
            of its parameter names, it writes the files and returns a summary dict.
        add_arguments: Adds the conversion's options to its sub-command parser; each
            option's ``dest`` is the name of a ``convert`` parameter.
        describe: ``describe(summary, options) -> str``: the line the CLI prints.
        details: More ``--help`` text after the summary.
    """

    name: str
    summary: str
    convert: Callable[..., dict[str, Any]]
    add_arguments: Callable[[argparse.ArgumentParser], None]
    describe: Callable[[Mapping[str, Any], Mapping[str, Any]], str]
    details: str = ""

    def options(self, args: argparse.Namespace) -> dict[str, Any]:
        """The keyword arguments of ``convert`` among the parsed ``args``."""
        names = inspect.signature(self.convert).parameters
        return {k: v for k, v in vars(args).items() if k in names}

    def run(self, args: argparse.Namespace) -> Converted:
        """Convert with the parsed command-line ``args``; nothing is printed.

        Raises:
            InputError: The inputs failed checks.
            ConfigError: Invalid options.
        """
        options = self.options(args)
        summary = self.convert(**options)
        return Converted(self.name, summary, self.describe(summary, options))


def add_json_output(parser: argparse.ArgumentParser, metavar: str, *,
                    png_folder: bool = False) -> None:
    """``--out FILE.json`` (the ``out_json`` parameter) and, with ``png_folder``, the
    optional ``--out-dir`` of a COCO panoptic output."""
    parser.add_argument("--out", dest="out_json", required=True, type=Path, metavar=metavar)
    if png_folder:
        parser.add_argument("--out-dir", type=Path, metavar="DIR",
                            help="PNG folder (default: PANOPTIC.json without .json)")
    add_force(parser)


def add_force(parser: argparse.ArgumentParser) -> None:
    """``--force`` (the ``force`` parameter): overwrite existing outputs, never an input."""
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing outputs (inputs are never overwritten)")


def wrote_panoptic(done: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    """The line for a COCO panoptic output (``images``, ``segments``, ``png_dir`` and, when
    masks were lost to overlaps, ``dropped``)."""
    lost = f"; {done['dropped']} masks lost every pixel" if done.get("dropped") else ""
    return (f"wrote {options['out_json']}: {done['images']} images, {done['segments']}"
            f" segments; PNGs in {done['png_dir']}{lost}")


def wrote_instances(done: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    """The line for a COCO instances output (``images``, ``annotations``)."""
    return (f"wrote {options['out_json']}: {done['images']} images, {done['annotations']}"
            " annotations")
