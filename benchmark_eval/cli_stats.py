"""The command line of ``benchmark_eval.stats``: ``evaluate --ci [LEVEL] --resamples N
--seed S`` and ``benchmark-eval compare PROTOCOL --gt GT --pred A --pred B`` (or
``--state A.npz --state B.npz``). :mod:`benchmark_eval.cli` dispatches here.
"""

from __future__ import annotations

__all__ = ["add_ci_arguments", "add_compare_parser", "ci_options", "run_compare"]

import argparse
import copy
from collections.abc import Collection
from pathlib import Path
from typing import Any, TextIO

from benchmark_eval.api import compare
from benchmark_eval.errors import ConfigError
from benchmark_eval.io.jsonfile import write_json
from benchmark_eval.stats.bootstrap import DEFAULT_RESAMPLES, replicates_of
from benchmark_eval.stats.compare import compare_runs
from benchmark_eval.workflows import WORKFLOWS, Workflow
from benchmark_eval.workflows.catalog import CATALOG


def _level(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"a confidence level in (0, 1), got {text}")
    return value


def _resampling_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES, metavar="N",
                   help=f"bootstrap replicates (default {DEFAULT_RESAMPLES})")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the image draws (default 0)")


def add_ci_arguments(p: argparse.ArgumentParser) -> None:
    """``--ci [LEVEL]``, ``--resamples``, ``--seed`` on an ``evaluate`` parser."""
    p.add_argument("--ci", nargs="?", const=0.95, type=_level, metavar="LEVEL",
                   help="bootstrap confidence intervals over images of every headline"
                        " number (LEVEL default 0.95; docs/statistics.md)")
    _resampling_arguments(p)


def ci_options(args: argparse.Namespace) -> dict[str, Any]:
    """``ci`` / ``resamples`` / ``seed`` keyword arguments of ``evaluate`` (none without
    ``--ci``)."""
    if getattr(args, "ci", None) is None:
        return {}
    return {"ci": args.ci, "resamples": args.resamples, "seed": args.seed}


def _pairable(p: argparse.ArgumentParser) -> list[str]:
    """Turn the protocol's prediction options into repeatable ones (A, then B) and make
    ``--gt`` optional (not needed with ``--state``); returns their destinations."""
    dests = []
    for option, action in list(p._option_string_actions.items()):
        if option == "--gt":
            action.required = False
        elif option.startswith("--pred") and action.dest not in dests:
            p.add_argument(option, action="append", type=action.type or str,
                           dest=action.dest, metavar=action.metavar,
                           help=f"{action.help} (twice: A, then B)")
            dests.append(action.dest)
    return dests


def add_compare_parser(sub: Any, argv: Collection[str], *, help: str) -> None:
    """The ``compare`` sub-command, one sub-parser per protocol (the options of those
    named in ``argv`` only, so their families alone are imported)."""
    cmp = sub.add_parser(
        "compare", help=help,
        description="Score two submissions on the same ground truth (or two saved"
                    " states) and print the difference of every headline number with its"
                    " paired-bootstrap interval and p-value, then per class.")
    protocols = cmp.add_subparsers(dest="protocol", required=True, metavar="PROTOCOL",
                                   help=", ".join(CATALOG))
    for e in CATALOG.values():
        p = protocols.add_parser(e.name, help=e.summary, description=e.summary,
                                 conflict_handler="resolve")
        if e.name not in argv:
            continue
        w = WORKFLOWS[e.name]
        w.add_arguments(p, True)
        p.set_defaults(paired=_pairable(p))
        p.add_argument("--state", action="append", type=Path, metavar="STATE.npz",
                       help="instead of --gt/--pred: a saved state (twice: A, then B)")
        p.add_argument("--config", metavar="PRESET", help="parameters: a preset or a JSON"
                                                          " file; the official preset by default")
        p.add_argument("--workers", type=int, default=0, metavar="N",
                       help="processes to use (default 0: all cores)")
        p.add_argument("--ci", type=_level, default=0.95, metavar="LEVEL",
                       help="confidence level of the intervals (default 0.95; the test's"
                            " level is 1 - LEVEL)")
        _resampling_arguments(p)
        p.add_argument("--out", type=Path, metavar="DIFF.json",
                       help='also write {"diff": {metric: {"delta", "ci", "p"}}, ...}')
        p.add_argument("--no-per-class", action="store_true", help="omit the per-class table")


def _run(w: Workflow, args: argparse.Namespace, i: int) -> Any:
    ns = copy.copy(args)
    for dest in args.paired:
        values = getattr(args, dest) or []
        setattr(ns, dest, values[i] if len(values) > i else None)
    options = w.cli_options(ns, True)
    if args.config is not None:
        options["params"] = args.config
    return replicates_of(w.evaluate(workers=args.workers, **options))


def run_compare(args: argparse.Namespace, out: TextIO) -> None:
    """Run ``compare``: print the verdict and the tables, write ``--out``.

    Raises:
        ConfigError: Neither two ``--pred`` (with ``--gt``) nor two ``--state``.
    """
    w = WORKFLOWS[args.protocol]
    preds = getattr(args, "pred", None) or []
    states = args.state or []
    if len(states) == 2 and not preds:
        fields = w.params_model.model_fields
        try:  # parameter options given on the command line (e.g. --num-classes)
            overrides = {k: v for k, v in w.cli_options(args, True).items() if k in fields}
        except (TypeError, AttributeError):
            overrides = {}
        result = compare(w.name, state_a=states[0], state_b=states[1], params=args.config,
                         ci=args.ci, resamples=args.resamples, seed=args.seed, **overrides)
    elif len(preds) == 2 and not states and args.gt is not None:
        result = compare_runs(w.name, _run(w, args, 0), _run(w, args, 1), ci=args.ci,
                              resamples=args.resamples, seed=args.seed)
    else:
        raise ConfigError("compare needs --gt with two --pred (A, then B), or two --state")
    print(result.render(per_class=not args.no_per_class), file=out)
    if args.out is not None:
        write_json(args.out, result.to_report())
