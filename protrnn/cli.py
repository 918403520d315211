"""Command-line entry point ``protrnn`` (``[project.scripts] protrnn = "protrnn.cli:main"``).

``protrnn predict --fasta F --model results/models/bigru/model.pt
--database resources/profile_db/seqdb/mmseqs2 --out OUT [--threads N] [--config C]``
does what the workflow's rule ``predict`` does, outside Snakemake: profiles with the config's
``profiles.backend`` and its ``profiles.{backend}`` parameters (the ones the model was trained
with), then the outputs described in :mod:`protrnn.predict`.

User errors (bad FASTA, missing files, invalid config, a model of another task or encoding, an
existing file as ``--out``, a full disk) print one line ``protrnn: error: ...`` on stderr and exit
with code 2; warnings print one line each, ``protrnn: warning: ...``; unexpected failures keep
their traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from protrnn.config import load_config
from protrnn.core.diskspace import NoSpaceLeft
from protrnn.predict import predict_fasta

DEFAULT_CONFIG = Path("config/config.yaml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protrnn", description="protein secondary structure with recurrent networks"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "predict",
        help="predict 8- and 3-state secondary structure of the proteins in a FASTA file",
        description="Build profiles (backend and parameters from --config, as for training) and "
        "predict with a trained model. "
        "Writes OUT/predictions.fasta, OUT/ss2/*.ss2 (PSIPRED format) and *.ss8, OUT/ids.tsv.",
    )
    p.add_argument("--fasta", required=True, type=Path, help="query FASTA (plain or gzip)")
    p.add_argument("--model", required=True, type=Path, help="trained model.pt")
    p.add_argument(
        "--database",
        required=True,
        type=Path,
        help="database of the training profiles: the folder rule profile_database built "
        "(resources/profile_db/<database>/<backend>), or its db prefix",
    )
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--threads", type=int, default=1, help="threads for MMseqs2 and torch")
    p.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help=f"workflow config for the search parameters (default {DEFAULT_CONFIG})",
    )
    p.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda or auto")
    return parser


def _one_line(err: BaseException | str) -> str:
    """The exception message on one line (multi-line config errors joined with '; ')."""
    parts = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = "; ".join(parts).replace(":;", ":")
    return text or type(err).__name__


def search_params_from_config(path: Path) -> tuple[str, dict]:
    """The backend and its validated ``profiles.{backend}`` section of the config at ``path``."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"config file {path} does not exist (give --config; the search parameters must be "
            "the ones the model was trained with)"
        )
    config = load_config(Path(path))
    backend = config["profiles"]["backend"]
    return backend, dict(config["profiles"].get(backend) or {})


def _warn(message: str) -> None:
    print(f"protrnn: warning: {_one_line(message)}", file=sys.stderr)


def _predict(args: argparse.Namespace) -> int:
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    backend, params = search_params_from_config(args.config)
    torch.set_num_threads(args.threads)
    summary = predict_fasta(
        args.fasta,
        args.model,
        args.database,
        params,
        args.out,
        threads=args.threads,
        device=args.device,
        backend=backend,
        warn=_warn,
    )
    print(
        f"protrnn: predicted {summary['n_proteins']} proteins ({summary['n_residues']} residues; "
        f"{summary['n_no_hits']} without database hits) -> {args.out}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 user error)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "predict":
            return _predict(args)
    except (ValueError, FileNotFoundError, PermissionError, NoSpaceLeft) as err:
        print(f"protrnn: error: {_one_line(err)}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
