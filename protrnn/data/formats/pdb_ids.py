"""PDB chain ids and where each entry's mmCIF is downloaded from (no pandas, no DSSP).

The rules and the config checks read this while the workflow's DAG is built, so it imports
nothing heavy. :func:`structure_downloads` gives url / mirror_path per PDB id for
:func:`protrnn.data.download.fetch` (RCSB files change with remediation, so no sha256 is pinned);
:mod:`protrnn.data.formats.pdb_chains` parses the downloaded files.

- Download templates (url, mirror_path): placeholders ``{pdb}`` (= ``{PDB}``, the upper-case
  PDB id), ``{pdb_lower}`` and ``{mid}`` (middle two characters, lower case); defaults
  :data:`DEFAULT_URL` (RCSB) and :data:`DEFAULT_MIRROR_PATH` (``pdb/{pdb}.cif``).
- Chain ids: ``{pdb}{sep}{chain}`` with a 4-character PDB id (a digit and three letters or
  digits, any case; stored upper-case), a separator ``_``, ``:``, ``.`` or ``-`` and the
  author chain id (``auth_asym_id``, as in the PDB's own files and the classic DSSP output),
  1-4 letters or digits, case-sensitive (``1abc:a`` is chain ``a``, not ``A``). Row id:
  ``{PDB}_{chain}``.
"""

from __future__ import annotations

import re

DEFAULT_URL = "https://files.rcsb.org/download/{pdb}.cif"
DEFAULT_MIRROR_PATH = "pdb/{pdb}.cif"
PLACEHOLDERS = (
    "{pdb} or {PDB} (upper-case PDB id), {pdb_lower} (lower-case id) and {mid} (the id's middle "
    "two characters, lower case, as in the PDB's divided layout)"
)
SEPARATORS = "_:.-"
#: A PDB id: a digit, then three letters or digits (any case).
PDB_ID = re.compile(r"[0-9][A-Za-z0-9]{3}")
CHAIN_ID = re.compile(r"[A-Za-z0-9]{1,4}")


def parse_chain_id(text: str) -> tuple[str, str]:
    """``'1abc_A'`` / ``'1ABC:A'`` -> ``('1ABC', 'A')`` (see the module docstring for the rules)."""
    if not isinstance(text, str):
        raise ValueError(f"chain id {text!r} is not a string (quote it in YAML)")
    s = text.strip()
    if len(s) < 6 or s[4] not in SEPARATORS:
        raise ValueError(
            f"chain id {text!r}: expected a 4-character PDB id, a separator "
            f"({' '.join(SEPARATORS)}) and a chain id, e.g. 1ABC_A or 1abc:A"
        )
    pdb, chain = s[:4], s[5:]
    if not PDB_ID.fullmatch(pdb):
        raise ValueError(
            f"chain id {text!r}: {pdb!r} is not a PDB id (a digit, then three letters or digits)"
        )
    if not CHAIN_ID.fullmatch(chain):
        raise ValueError(f"chain id {text!r}: chain {chain!r} must be 1-4 letters or digits")
    return pdb.upper(), chain


def fill_template(template: str, pdb: str, what: str) -> str:
    """``template`` with the placeholders of :data:`PLACEHOLDERS` filled in for ``pdb``."""
    if not any(f"{{{key}}}" in template for key in ("pdb", "PDB", "pdb_lower")):
        raise ValueError(f"{what} template {template!r} must contain {{pdb}} or {{pdb_lower}}")
    try:
        return template.format(PDB=pdb, pdb=pdb, pdb_lower=pdb.lower(), mid=pdb[1:3].lower())
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(
            f"{what} template {template!r}: {err!r}; placeholders are {PLACEHOLDERS}"
        ) from None


def structure_downloads(
    chain_ids: list[str],
    url_template: str = DEFAULT_URL,
    mirror_template: str = DEFAULT_MIRROR_PATH,
) -> dict[str, dict]:
    """PDB id -> ``{"url", "mirror_path", "sha256": None}`` for every entry of ``chain_ids``.

    Entries appear once, in order of first mention. Templates take the placeholders of
    :data:`PLACEHOLDERS`: ``{pdb}`` (= ``{PDB}``, upper case), ``{pdb_lower}``, ``{mid}``.
    """
    if not chain_ids or isinstance(chain_ids, str):
        raise ValueError("chain_ids must be a non-empty list of PDB chain ids")
    out: dict[str, dict] = {}
    for text in chain_ids:
        pdb, _ = parse_chain_id(text)
        if pdb not in out:
            out[pdb] = {
                "url": fill_template(url_template, pdb, "url"),
                "mirror_path": fill_template(mirror_template, pdb, "mirror_path"),
                "sha256": None,
            }
    return out
