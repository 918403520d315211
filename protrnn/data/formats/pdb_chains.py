"""Datasets from experimental structures: PDB chain ids -> mmCIF -> DSSP -> canonical table.

Format ``pdb_chains``: a dataset lists chains such as ``1ABC_A``. The workflow downloads each
entry's mmCIF once (:func:`protrnn.data.formats.pdb_ids.structure_downloads` gives url /
mirror_path per PDB id; chain ids and templates are explained there; RCSB files change with
remediation, so no sha256 is pinned and :func:`load_structure_dataset` records the checksum of the
file it read), runs DSSP on it (:func:`run_dssp`) and turns each chain's residues into one
canonical row (:func:`parse_dssp`).

Conventions:

- Row id: ``{PDB}_{chain}`` (:func:`protrnn.data.formats.pdb_ids.parse_chain_id`).
- Residues: those DSSP lists for the chain, in order; chain-break lines (``!``) are skipped, so
  unobserved residues are absent. Lower-case letters (bonded cysteines) -> ``C``; anything
  outside the 20 standard letters (non-standard residues) -> ``X``.
- ss8: DSSP letters; blank (loop) and ``P`` (PPII, DSSP >= 4) -> ``C``. ss3 by the usual
  reduction. eval_mask: 1 for every residue DSSP assigned, i.e. every residue in the row.
- rsa: DSSP's ACC (A^2) divided by the theoretical maximum ASA of Tien et al. 2013
  (:data:`MAX_ASA`), clipped to [0, 1], 3 decimals, comma-separated; ``nan`` for ``X``.
- DSSP: ``$PROTRNN_MKDSSP``, else ``mkdssp``, else ``dssp`` on PATH; mkdssp >= 4 is run with
  ``--output-format dssp`` (and ``--mmcif-dictionary`` when the dictionary of its libcifpp is
  found next to it), older ones with ``-i``/``-o``. mkdssp 4 reads a chain only when the mmCIF
  has ``_pdbx_poly_seq_scheme`` (files from RCSB/PDBe do; an mmCIF with only ``_atom_site``
  gives no residues, which is an error here). Classic DSSP output has one column for the chain,
  so chains with multi-character ids need a DSSP that writes the AUTHCHAIN column (2.x); with
  DSSP 4 they are an error, and so is a 1-character chain of an entry that also has a
  multi-character chain starting with the same letter (DSSP 4.2 truncates ids).
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from protrnn.core.alphabet import AMINO_ACIDS, SS8, SS8_ALIASES, ss8_to_ss3
from protrnn.core.tools import find_mkdssp, mkdssp_version
from protrnn.data.download import sha256_file
from protrnn.data.formats.pdb_ids import PDB_ID, parse_chain_id
from protrnn.data.table import check_split, make_row, make_table

log = logging.getLogger(__name__)

#: Theoretical maximum accessible surface area (A^2) per residue, Tien et al. 2013,
#: PLoS ONE 8(11): e80635, table 1 ("Theoretical").
MAX_ASA = {
    "A": 129.0, "R": 274.0, "N": 195.0, "D": 193.0, "C": 167.0,
    "Q": 225.0, "E": 223.0, "G": 104.0, "H": 224.0, "I": 197.0,
    "L": 201.0, "K": 236.0, "M": 224.0, "F": 240.0, "P": 159.0,
    "S": 155.0, "T": 172.0, "W": 285.0, "Y": 263.0, "V": 174.0,
}  # fmt: skip
DSSP_TIMEOUT = 600
_RESIDUE_HEADER = "  #  RESIDUE"
_STANDARD = frozenset(AMINO_ACIDS)


# ---------------------------------------------------------------------------------------------
# files


def cif_files_by_pdb(files: Mapping[str, str | os.PathLike[str]]) -> dict[str, Path]:
    """Normalize the keys of a pdb_chains ``files`` mapping: ``1abc`` / ``cif_1ABC`` -> ``1ABC``."""
    out: dict[str, Path] = {}
    for key, path in files.items():
        pdb = key[4:] if key.lower().startswith("cif_") else key
        if not PDB_ID.fullmatch(pdb):
            raise ValueError(
                f"pdb_chains: files key {key!r} is not a PDB id (expected e.g. 1ABC or cif_1ABC)"
            )
        if pdb.upper() in out:
            raise ValueError(f"pdb_chains: two files for PDB entry {pdb.upper()}")
        out[pdb.upper()] = Path(path)
    return out


# ---------------------------------------------------------------------------------------------
# running DSSP


def _libcifpp_dir(binary: str) -> Path | None:
    """The libcifpp data folder of ``binary``: $LIBCIFPP_DATA_DIR, else <prefix>/share/libcifpp."""
    candidates = []
    if os.environ.get("LIBCIFPP_DATA_DIR"):
        candidates.append(Path(os.environ["LIBCIFPP_DATA_DIR"]))
    candidates.append(Path(binary).resolve().parent.parent / "share" / "libcifpp")
    return next((c for c in candidates if (c / "mmcif_pdbx.dic").is_file()), None)


def _dssp_command(binary: str, cif_path: Path, out: Path) -> tuple[list[str], dict[str, str]]:
    """Command line and environment for one DSSP run."""
    version = mkdssp_version(binary)
    env = dict(os.environ)
    if int(version.split(".")[0]) < 4:
        return [binary, "-i", str(cif_path), "-o", str(out)], env
    cmd = [binary, "--output-format", "dssp"]
    data_dir = _libcifpp_dir(binary)
    if data_dir is not None:
        # conda builds have failed to find their own dictionary; naming it explicitly is safe
        env.setdefault("LIBCIFPP_DATA_DIR", str(data_dir))
        if tuple(int(p) for p in version.split(".")[:2]) >= (4, 2):
            cmd += ["--mmcif-dictionary", str(data_dir / "mmcif_pdbx.dic")]
    return [*cmd, str(cif_path), str(out)], env


def _dssp_failure(binary: str, cif_path: Path, detail: str) -> RuntimeError:
    hint = ""
    if "components.cif" in detail or "compound information" in detail:
        hint = (
            " (this libcifpp needs the PDB's chemical component dictionary: put components.cif "
            "from https://files.wwpdb.org/pub/pdb/data/monomers/ into $LIBCIFPP_DATA_DIR)"
        )
    elif "dictionary" in detail:
        hint = " (libcifpp cannot find mmcif_pdbx.dic: set LIBCIFPP_DATA_DIR to its folder)"
    return RuntimeError(f"DSSP ({binary}) failed on {cif_path.name}: {detail}{hint}")


def run_dssp(cif_path: Path, binary: str, workdir: Path) -> str:
    """Run DSSP on one mmCIF file; return the classic DSSP text.

    mkdssp tells gzip by the name: a compressed file must end in ``.gz``.

    The output file is written into ``workdir``. Raises RuntimeError when DSSP fails or finds no
    protein residue.
    """
    cif_path, workdir = Path(cif_path), Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{cif_path.name}.dssp"
    out.unlink(missing_ok=True)
    cmd, env = _dssp_command(binary, cif_path, out)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=DSSP_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise _dssp_failure(binary, cif_path, str(err)) from None
    detail = " ".join((proc.stderr or proc.stdout).split())[-600:]
    if proc.returncode != 0 or not out.is_file():
        raise _dssp_failure(binary, cif_path, f"exit {proc.returncode}: {detail}")
    text = out.read_text(encoding="utf-8", errors="replace")
    if _RESIDUE_HEADER not in text:
        raise _dssp_failure(binary, cif_path, f"output has no residue table; {detail}")
    if not any(line[13:14] not in ("", "!") for line in _residue_lines(text)):
        raise RuntimeError(
            f"DSSP ({binary}) found no protein residues in {cif_path.name}; mkdssp 4 reads "
            "chains from _pdbx_poly_seq_scheme (with _atom_site): does the file have it?"
        )
    return text


# ---------------------------------------------------------------------------------------------
# parsing DSSP output


def _residue_lines(text: str) -> list[str]:
    """Lines after the ``  #  RESIDUE`` header (empty when there is none)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(_RESIDUE_HEADER)), None)
    return [] if start is None else [line for line in lines[start + 1 :] if line.strip()]


def _has_long_ids(header: str) -> bool:
    """True when the residue table has (AUTH)CHAIN columns after Z-CA (DSSP 2.x)."""
    return "CHAIN" in header[130:]


def _line_chain(line: str, long_ids: bool) -> str:
    """Author chain id of a residue line (the AUTHCHAIN column when the output has it)."""
    if long_ids:
        extra = line[136:].split()
        if extra:
            return extra[-1]
    return line[11]


def _residue(line: str, where: str) -> tuple[str, str, float]:
    """(residue letter, ss8 letter, rsa) of one residue line."""
    aa = line[13]
    if aa.islower():
        aa = "C"  # a cysteine in an SS bridge
    elif aa not in _STANDARD:
        aa = "X"
    ss = SS8_ALIASES.get(line[16], line[16])
    if ss not in SS8:
        raise ValueError(f"{where}: unknown secondary structure letter {line[16]!r}")
    try:
        acc = float(line[34:38])
    except ValueError:
        raise ValueError(f"{where}: accessibility {line[34:38]!r} is not a number") from None
    rsa = min(max(acc / MAX_ASA[aa], 0.0), 1.0) if aa in MAX_ASA else math.nan
    return aa, ss, rsa


def parse_dssp(text: str, chain: str) -> dict[str, str]:
    """Sequence, ss8, ss3, eval_mask and rsa strings of ``chain`` in classic DSSP ``text``."""
    header = next((ln for ln in text.splitlines() if ln.startswith(_RESIDUE_HEADER)), None)
    if header is None:
        raise ValueError("not classic DSSP output (no '  #  RESIDUE' table)")
    long_ids = _has_long_ids(header)
    if len(chain) > 1 and not long_ids:
        raise ValueError(
            f"chain {chain!r}: classic DSSP output without an AUTHCHAIN column holds only "
            "1-character chain ids"
        )
    lines = _residue_lines(text)
    block, blocks, chains = 0, set(), []
    letters, ss8, rsa = [], [], []
    for number, line in enumerate(lines, start=1):
        if len(line) < 38:
            raise ValueError(f"DSSP residue line {number} is truncated: {line!r}")
        if line[13] == "!":
            block += line[14] == "*"  # '!*' starts a new chain; '!' alone is a gap in one
            continue
        this = _line_chain(line, long_ids)
        if this not in chains:
            chains.append(this)
        if this != chain:
            continue
        blocks.add(block)
        aa, ss, value = _residue(line, f"chain {chain!r}, DSSP residue line {number}")
        letters.append(aa)
        ss8.append(ss)
        rsa.append(value)
    if not letters:
        raise ValueError(f"chain {chain!r} is not in the DSSP output (chains: {', '.join(chains)})")
    if len(blocks) > 1:
        raise ValueError(
            f"chain {chain!r} appears as {len(blocks)} separate chains in the DSSP output "
            "(truncated multi-character chain ids?)"
        )
    ss8_text = "".join(ss8)
    return {
        "sequence": "".join(letters),
        "ss8": ss8_text,
        "ss3": ss8_to_ss3(ss8_text),
        "eval_mask": "1" * len(letters),
        "rsa": ",".join("nan" if math.isnan(v) else f"{v:.3f}" for v in rsa),
    }


# ---------------------------------------------------------------------------------------------
# mmCIF chain ids (to catch chain ids that classic DSSP output cannot hold)


def cif_chain_ids(path: Path) -> list[str] | None:
    """Author chain ids of the polymers in an mmCIF (``_pdbx_poly_seq_scheme.pdb_strand_id``).

    None when the file lacks that item or its rows cannot be read as plain tokens. Plain or gzip.
    """
    path = Path(path)
    with path.open("rb") as handle:
        opener = gzip.open if handle.read(2) == b"\x1f\x8b" else open
    prefix = "_pdbx_poly_seq_scheme."
    items: list[str] = []
    single: dict[str, str] = {}
    tokens: list[str] = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            line = raw.strip()
            if line.startswith(prefix):
                name, *value = line.split(None, 1)
                items.append(name[len(prefix) :])
                if value:
                    single[items[-1]] = value[0].strip("'\"")
                continue
            if not items:
                continue
            if single or not line or line.startswith(("#", "_", "loop_", "data_", ";")):
                break
            tokens.extend(line.split())
    if "pdb_strand_id" not in items:
        return None
    if single:
        return [single["pdb_strand_id"]] if "pdb_strand_id" in single else None
    if not tokens or len(tokens) % len(items):
        return None
    column = items.index("pdb_strand_id")
    return list(dict.fromkeys(tokens[column :: len(items)]))


def _check_chain_fits(chain: str, entry_chains: list[str] | None, long_ids: bool, where: str):
    """Raise when classic DSSP output cannot tell ``chain`` apart in this entry."""
    if entry_chains is None:
        return
    if chain not in entry_chains:
        raise ValueError(f"{where}: no polymer chain {chain!r} (chains: {', '.join(entry_chains)})")
    clash = [c for c in entry_chains if len(c) > 1 and c != chain and c[0] == chain[0]]
    if not long_ids and (len(chain) > 1 or clash):
        raise ValueError(
            f"{where}: chain {chain!r} cannot be told apart in classic DSSP output, which keeps "
            f"1 character of the chain id (chains: {', '.join(entry_chains)})"
        )


# ---------------------------------------------------------------------------------------------
# the dataset


def _wanted_chains(chain_ids: list[str], source: str) -> tuple[dict[str, list[str]], list[str]]:
    """({PDB id: its chains}, row ids in the order of ``chain_ids``); raise on repeats."""
    if not chain_ids or isinstance(chain_ids, str):
        raise ValueError(f"{source}: chain_ids must be a non-empty list of PDB chain ids")
    wanted: dict[str, list[str]] = {}
    spelled: dict[str, str] = {}
    for text in chain_ids:
        pdb, chain = parse_chain_id(text)
        rid = f"{pdb}_{chain}"
        if rid in spelled:
            raise ValueError(f"{source}: {text!r} and {spelled[rid]!r} are the same chain {rid}")
        spelled[rid] = text
        wanted.setdefault(pdb, []).append(chain)
    return wanted, list(spelled)


def _entry_chains(
    pdb: str, chains: list[str], path: Path, binary: str, work: Path, source: str
) -> dict[str, dict[str, str]]:
    """Row id -> :func:`parse_dssp` fields for ``chains`` of one entry's mmCIF ``path``."""
    text = run_dssp(path, binary, work)
    header = next(ln for ln in text.splitlines() if ln.startswith(_RESIDUE_HEADER))
    entry_chains = cif_chain_ids(path)
    parsed = {}
    for chain in chains:
        where = f"{source}: {pdb}_{chain} ({path.name})"
        _check_chain_fits(chain, entry_chains, _has_long_ids(header), where)
        try:
            parsed[f"{pdb}_{chain}"] = parse_dssp(text, chain)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
    return parsed


def load_structure_dataset(
    chain_ids: list[str],
    cif_files: Mapping[str, Path],
    split: str = "test",
    binary: str | None = None,
) -> pd.DataFrame:
    """Canonical table (validated) of ``chain_ids`` from their entries' mmCIF files via DSSP.

    ``cif_files``: PDB id (upper case) -> mmCIF path. ``binary``: DSSP (default
    :func:`find_mkdssp`). ``df.attrs["parse_stats"]`` records ``dssp_binary``, ``dssp_version``,
    ``entries`` and ``structure_sha256`` (PDB id -> sha256 of the file read).
    """
    source = "pdb_chains"
    check_split(split, source)
    wanted, row_ids = _wanted_chains(chain_ids, source)
    files = {k.upper(): Path(v) for k, v in cif_files.items()}
    missing = [pdb for pdb in wanted if pdb not in files]
    if missing:
        raise ValueError(f"{source}: no mmCIF file for {', '.join(missing)}")
    binary = binary or find_mkdssp()
    version = mkdssp_version(binary)
    parsed: dict[str, dict[str, str]] = {}
    checksums = {pdb: sha256_file(files[pdb]) for pdb in wanted}
    with tempfile.TemporaryDirectory(prefix="protrnn-dssp-") as work:
        for pdb, chains in wanted.items():
            parsed.update(_entry_chains(pdb, chains, files[pdb], binary, Path(work), source))
    rows = []
    for rid in row_ids:
        res = parsed[rid]
        rows.append(
            make_row(
                rid,
                res["sequence"],
                res["ss8"],
                res["ss3"],
                res["eval_mask"],
                "",
                split,
                rsa=res["rsa"],
            )
        )
    df = make_table(rows, source)
    df.attrs["parse_stats"] = {
        "dssp_binary": binary,
        "dssp_version": version,
        "entries": len(wanted),
        "structure_sha256": checksums,
    }
    log.info(
        "%s: %d chains of %d entries, DSSP %s (%s)", source, len(df), len(wanted), version, binary
    )
    return df


def load(files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """``files``: one mmCIF per entry (:func:`cif_files_by_pdb`); ``options``: ``chains`` (list of
    PDB chain ids) and ``split``."""
    chains = options.get("chains")
    if not chains or isinstance(chains, str):
        raise ValueError("pdb_chains: option 'chains' must be a non-empty list of chain ids")
    split = options.get("split", "test")
    return load_structure_dataset(list(chains), cif_files_by_pdb(files), split)
