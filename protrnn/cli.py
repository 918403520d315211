"""Command-line entry point ``protrnn`` (``[project.scripts] protrnn = "protrnn.cli:main"``).

``protrnn predict --fasta F --out OUT [--model M] [--database D] [--mirror DIR] [--threads N]
[--config C] [--device D]`` does what the workflow's rule ``predict`` does, outside Snakemake:
profiles with the config's ``profiles.backend`` and its ``profiles.{backend}`` parameters (the
ones the model was trained with), then the outputs described in :mod:`protrnn.predict`.

Defaults, relative to the repository this package lives in (never the working directory):

- ``--model``: the released secondary-structure model, ``models/secondary_structure/model.pt``
  (its ``MODEL_CARD.md`` beside it; made by ``python -m protrnn.release``).
- ``--config``: ``config/config.yaml``.
- ``--database``: ``resources/profile_db/{profiles.database}/{profiles.backend}``, the folder
  the workflow's rule profile_database builds. When it does not exist it is built once (one line
  on stderr): the config's ``profile_databases`` files are fetched into ``resources/downloads/``
  (as the workflow does: from ``--mirror``, else the config's ``mirror``, else their public
  URLs; a file already there is reused), each checked against its sha256
  (:mod:`protrnn.data.download`), then built with
  :func:`protrnn.profiles.service.build_database_dir`, moved into place when complete. A given
  ``--database`` must exist.

User errors (bad FASTA, missing files, invalid config, a model of another task or encoding, an
existing file as ``--out``, a download that fails or has another checksum, a full disk) print one
line ``protrnn: error: ...`` on stderr and exit with code 2; warnings print one line each,
``protrnn: warning: ...``; unexpected failures keep their traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from protrnn import paths
from protrnn.config import load_config
from protrnn.core.diskspace import NoSpaceLeft, no_space_left_on
from protrnn.data.download import DownloadError, fetch, verify_file
from protrnn.predict import check_out_dir, load_residue_model, predict_fasta, read_query_fasta
from protrnn.profiles.backends import get_backend
from protrnn.profiles.database import DB_INFO
from protrnn.profiles.service import build_database_dir

#: The repository of this package: the defaults below are relative to it.
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "config.yaml"
#: The experiment whose released model predicts when no --model is given.
DEFAULT_EXPERIMENT = "secondary_structure"
RELEASED_MODEL = (
    REPO_ROOT / paths.RELEASE_ROOT / paths.fill(paths.RELEASED_MODEL, experiment=DEFAULT_EXPERIMENT)
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protrnn", description="protein secondary structure with recurrent networks"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "predict",
        help="predict 8- and 3-state secondary structure of the proteins in a FASTA file",
        description="Build profiles (backend and parameters from --config, as for training) and "
        "predict with a trained model. Writes OUT/predictions.fasta, OUT/ss2/*.ss2 (PSIPRED "
        "format) and *.ss8, OUT/svg/*.svg, OUT/index.html, OUT/ids.tsv.",
    )
    p.add_argument("--fasta", required=True, type=Path, help="query FASTA (plain or gzip)")
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help=f"trained model.pt (default: the released model {RELEASED_MODEL})",
    )
    p.add_argument(
        "--database",
        type=Path,
        default=None,
        help="database of the training profiles: the folder rule profile_database built, or its "
        "db prefix (default: <repository>/resources/profile_db/<database>/<backend> of the "
        "config, built there from the config's profile_databases files when missing)",
    )
    p.add_argument(
        "--mirror",
        default=None,
        help="local copy (folder) or base URL of the data mirror to fetch the database files "
        "from when the default database must be built (default: the config's mirror)",
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


def read_predict_config(path: Path) -> dict:
    """The validated config at ``path`` (a missing file is one error naming it)."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"config file {path} does not exist (give --config; the search parameters must be "
            "the ones the model was trained with)"
        )
    return load_config(Path(path))


def _warn(message: str) -> None:
    print(f"protrnn: warning: {_one_line(message)}", file=sys.stderr)


def default_database_dir(config: dict) -> Path:
    """``<repository>/resources/profile_db/{database}/{backend}`` of ``config``."""
    profiles = config["profiles"]
    folder = paths.fill(
        paths.PROFILE_DATABASE, database=profiles["database"], backend=profiles["backend"]
    )
    return REPO_ROOT / folder


def mirror_of(config: dict, given: str | None) -> str | None:
    """The mirror to fetch from: ``--mirror`` as given, else the config's ``mirror`` (a relative
    folder there is relative to the repository, where the workflow runs); None: public URLs."""
    if given:
        return given
    mirror = config.get("mirror") or None
    if mirror and "://" not in mirror and not Path(mirror).is_absolute():
        return str(REPO_ROOT / mirror)
    return mirror


def fetch_database_files(config: dict, mirror: str | None) -> list[Path]:
    """The config's ``profile_databases`` files of its database in ``resources/downloads/``:
    fetched (mirror, else public URL) and sha256-checked as the workflow's rule download does;
    a file already there is checked and reused."""
    name = config["profiles"]["database"]
    out = []
    for key in config["profile_databases"][name]:
        entry = config["files"][key]
        dest = REPO_ROOT / paths.fill(paths.DOWNLOAD, file=key)
        if dest.is_file():
            verify_file(dest, key, entry.get("sha256"))
            out.append(dest)
            continue
        local = entry.get("path")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with no_space_left_on(dest.parent):
                fetch(
                    name=key,
                    url=Path(local).resolve().as_uri() if local else entry.get("url"),
                    sha256=entry.get("sha256"),
                    mirror_path=None if local else entry.get("mirror_path"),
                    dest=dest,
                    mirror=None if local else mirror,
                    timeout=config["download"]["timeout"],
                    retries=config["download"]["retries"],
                )
        except DownloadError as err:
            hint = "" if mirror or local else " (protrnn predict: give --mirror DIR)"
            raise DownloadError(f"{err}{hint}") from None
        out.append(dest)
    return out


def build_default_database(config: dict, mirror: str | None, threads: int) -> Path:
    """The default database folder of ``config``, built first when it is missing."""
    folder = default_database_dir(config)
    if (folder / DB_INFO).is_file():
        return folder
    profiles = config["profiles"]
    files = config["profile_databases"][profiles["database"]]
    source = mirror or "their public URLs"
    print(
        f"protrnn: building the profile database {profiles['database']} ({profiles['backend']}) "
        f"from {len(files)} files ({source}) into {folder}; this is done once",
        file=sys.stderr,
    )
    fasta = fetch_database_files(config, mirror)
    with no_space_left_on(folder.parent):
        build_database_dir(fasta, folder, profiles["backend"], profiles.get("cluster"), threads)
    return folder


def _database(args: argparse.Namespace, config: dict, model: Path) -> Path:
    """``--database``, else the default folder (built when missing, after the cheap checks)."""
    if args.database is not None:
        return args.database
    if not (default_database_dir(config) / DB_INFO).is_file():
        # what predict_fasta checks first, before minutes of downloading and building
        read_query_fasta(args.fasta)
        check_out_dir(args.out)
        load_residue_model(model, args.device)
        backend = config["profiles"]["backend"]
        get_backend(backend).check_params(dict(config["profiles"].get(backend) or {}))
    return build_default_database(config, mirror_of(config, args.mirror), args.threads)


def _model(args: argparse.Namespace) -> Path:
    """``--model``, else the released model (which must exist)."""
    if args.model is not None:
        return args.model
    if not RELEASED_MODEL.is_file():
        raise FileNotFoundError(
            f"no --model given and the released model {RELEASED_MODEL} does not exist (a clone "
            "of the repository ships it; give --model results/models/<experiment>/<model>/model.pt)"
        )
    return RELEASED_MODEL


def _predict(args: argparse.Namespace) -> int:
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    config = read_predict_config(args.config)
    backend = config["profiles"]["backend"]
    params = dict(config["profiles"].get(backend) or {})
    model = _model(args)
    database = _database(args, config, model)
    torch.set_num_threads(args.threads)
    summary = predict_fasta(
        args.fasta,
        model,
        database,
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
    except (ValueError, FileNotFoundError, PermissionError, NoSpaceLeft, DownloadError) as err:
        print(f"protrnn: error: {_one_line(err)}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
