"""``python -m protrnn.release --run RUN_DIR --out models/``: release the best model of each
experiment of a finished run (:mod:`protrnn.release`). A run or release that cannot be made
prints one line ``protrnn.release: error: ...`` and exits with code 2, leaving ``--out`` as it
was."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from protrnn.release.make import ReleaseOptions, make_release
from protrnn.release.run import ReleaseError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m protrnn.release",
        description="Copy the best model (by validation score) of each experiment of a finished "
        "workflow run into OUT/{experiment}/model.pt with MODEL_CARD.md and card.json.",
    )
    p.add_argument("--run", required=True, type=Path, help="the run's working directory")
    p.add_argument("--out", required=True, type=Path, help="release folder (e.g. models/)")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the run's config file (default: the config its report records)",
    )
    p.add_argument(
        "--run-command",
        default=None,
        help="the command that made the run, for the card (it is not recorded in the run)",
    )
    p.add_argument("--threads", type=int, default=2, help="threads of the check prediction")
    p.add_argument(
        "--mirror",
        default="",
        help="data mirror for protrnn predict's default database, built when the run's "
        "database folder is not there (default: the run config's mirror)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Make the release; return the exit code (0 ok, 2 error)."""
    args = _parser().parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    options = ReleaseOptions(
        run_dir=args.run,
        out_dir=args.out,
        config_file=args.config,
        run_command=args.run_command or ReleaseOptions.run_command,
        release_command=shlex.join(["python", "-m", "protrnn.release", *given]),
        threads=args.threads,
        mirror=args.mirror,
    )
    try:
        cards = make_release(options)
    except (ReleaseError, FileNotFoundError, OSError) as err:
        print(f"protrnn.release: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    for experiment, card in cards.items():
        check = card.get("cb513_check")
        extra = f"; CB513 check Q8 {check['q8']:.2f} Q3 {check['q3']:.2f}" if check else ""
        print(
            f"protrnn.release: {experiment}: {card['model']['name']} "
            f"(validation {card['selection']['metric']} "
            f"{card['selection']['validation_scores'][card['model']['name']]:.2f}){extra} "
            f"-> {args.out / experiment}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
