"""Ideal peptide structures for the DSSP tests: backbone from internal coordinates, as mmCIF.

Chains are grown atom by atom with NeRF (natural extension reference frame) from standard bond
lengths and angles (those of PeptideBuilder, Tien et al. 2013) and per-residue phi/psi (omega 180).
Each residue has N, CA, C, O and, except glycine, CB. :func:`alpha_helix` gives a right-handed
alpha helix (phi -57, psi -47); :func:`beta_pair` gives two antiparallel strands (phi -139,
psi 135) laid side by side at H-bonding distance, since a lone strand gets no ``E`` from DSSP.
:func:`mmcif` writes chains as the minimal mmCIF that mkdssp 4 reads (``atom_site`` plus a
``cell``/``symmetry`` pair).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# bond lengths (Angstrom) and angles (degrees)
N_CA, CA_C, C_N, C_O, CA_CB = 1.46, 1.52, 1.33, 1.23, 1.52
N_CA_C, CA_C_N, C_N_CA, CA_C_O, C_CA_CB = 111.068, 116.643, 121.382, 120.5, 109.5
N_C_CA_CB = 122.686  # improper dihedral that makes CB an L-amino acid's

HELIX = (-57.0, -47.0)
STRAND = (-139.0, 135.0)

THREE = {
    "A": "ALA", "R": "ARG", "N": "ASN", "D": "ASP", "C": "CYS", "Q": "GLN", "E": "GLU",
    "G": "GLY", "H": "HIS", "I": "ILE", "L": "LEU", "K": "LYS", "M": "MET", "F": "PHE",
    "P": "PRO", "S": "SER", "T": "THR", "W": "TRP", "Y": "TYR", "V": "VAL",
}  # fmt: skip


@dataclass
class Chain:
    """One polymer chain: residue names (3-letter) and atoms per residue {name: xyz}."""

    chain_id: str
    residues: list[str]
    atoms: list[dict[str, np.ndarray]]


def place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle: float, torsion: float):
    """Atom d with |cd| = bond, angle bcd = angle and dihedral abcd = torsion (degrees)."""
    angle, torsion = np.radians(angle), np.radians(torsion)
    bc = (c - b) / np.linalg.norm(c - b)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    frame = np.column_stack([bc, np.cross(n, bc), n])
    local = bond * np.array(
        [-np.cos(angle), np.sin(angle) * np.cos(torsion), np.sin(angle) * np.sin(torsion)]
    )
    return c + frame @ local


def build_chain(
    sequence: str, phi_psi: list[tuple[float, float]] | tuple[float, float], chain_id: str = "A"
) -> Chain:
    """Backbone (+CB) of ``sequence`` (one-letter, or 3-letter names as a list) with phi/psi."""
    names = [THREE.get(s, s) for s in sequence] if isinstance(sequence, str) else list(sequence)
    angles = [phi_psi] * len(names) if isinstance(phi_psi, tuple) else list(phi_psi)
    if len(angles) != len(names):
        raise ValueError("one (phi, psi) per residue")
    n = np.zeros(3)
    ca = np.array([N_CA, 0.0, 0.0])
    c = ca + CA_C * np.array([-np.cos(np.radians(N_CA_C)), np.sin(np.radians(N_CA_C)), 0.0])
    atoms: list[dict[str, np.ndarray]] = []
    for i, name in enumerate(names):
        psi = angles[i][1]
        if i + 1 < len(names):
            n_next = place(n, ca, c, C_N, CA_C_N, psi)
            o = place(n_next, ca, c, C_O, CA_C_O, 180.0)
        else:
            n_next = None
            o = place(n, ca, c, C_O, CA_C_O, psi + 180.0)
        residue = {"N": n, "CA": ca, "C": c, "O": o}
        if name != "GLY":
            residue["CB"] = place(n, c, ca, CA_CB, C_CA_CB, N_C_CA_CB)
        atoms.append(residue)
        if n_next is not None:
            ca_next = place(ca, c, n_next, N_CA, C_N_CA, 180.0)
            c_next = place(c, n_next, ca_next, CA_C, N_CA_C, angles[i + 1][0])
            n, ca, c = n_next, ca_next, c_next
    return Chain(chain_id, names, atoms)


def transformed(chain: Chain, rotation: np.ndarray, shift: np.ndarray, chain_id: str) -> Chain:
    """A copy of ``chain`` with every atom moved to ``rotation @ xyz + shift``."""
    atoms = [{k: rotation @ v + shift for k, v in res.items()} for res in chain.atoms]
    return Chain(chain_id, list(chain.residues), atoms)


def _strand_frame(chain: Chain) -> tuple[np.ndarray, np.ndarray]:
    """Centre and rows (x: strand axis N->C, y: mean C=O direction, z) of a straight strand."""
    ca = np.array([r["CA"] for r in chain.atoms])
    centre = ca.mean(axis=0)
    x = ca[-1] - ca[0]
    x /= np.linalg.norm(x)
    # carbonyls alternate sides: flip every other one so that they add up
    co = sum((-1) ** i * (r["O"] - r["C"]) for i, r in enumerate(chain.atoms))
    y = co - (co @ x) * x
    y /= np.linalg.norm(y)
    return centre, np.array([x, y, np.cross(x, y)])


def alpha_helix(sequence: str, chain_id: str = "A") -> Chain:
    """An ideal alpha helix."""
    return build_chain(sequence, HELIX, chain_id)


def beta_pair(
    sequence1: str, sequence2: str, ids: tuple[str, str] = ("A", "B"), gap: float = 4.8
) -> tuple[Chain, Chain]:
    """Two antiparallel strands (equal odd lengths) in register, ``gap`` Angstrom apart.

    The first strand is put in its own frame (axis along x, carbonyls of even residues along +y);
    the second is its copy turned 180 degrees about z, so that it runs along -x and its even
    residues' carbonyls point along -y, towards the first strand, and is moved ``gap`` along +y.
    Residue i of one strand then faces residue n-1-i of the other: the narrow pairs of an
    antiparallel ladder, whose N-H...O=C bonds DSSP finds.
    """
    if len(sequence1) != len(sequence2) or len(sequence1) % 2 == 0:
        raise ValueError("beta_pair wants two strands of the same odd length")
    raw = build_chain(sequence1, STRAND)
    centre, rows = _strand_frame(raw)
    first = transformed(raw, rows, -rows @ centre, ids[0])
    turn = np.diag([-1.0, -1.0, 1.0])
    second = transformed(build_chain(sequence2, STRAND), turn @ rows, -turn @ rows @ centre, ids[1])
    return first, moved(second, (0.0, gap, 0.0))


ATOM_SITE = (
    "group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id",
    "label_asym_id", "label_entity_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x",
    "Cartn_y", "Cartn_z", "occupancy", "B_iso_or_equiv", "auth_seq_id", "auth_comp_id",
    "auth_asym_id", "auth_atom_id", "pdbx_PDB_model_num",
)  # fmt: skip


def _asym(entity: int) -> str:
    """label_asym_id of the ``entity``-th chain (A, B, ...), independent of the author's id."""
    return chr(ord("A") + entity - 1)


def _loop(category: str, fields: str, rows: list[str]) -> list[str]:
    return ["loop_", *(f"_{category}.{f}" for f in fields.split()), *rows, "#"]


def _polymer_categories(chains: list[Chain]) -> list[str]:
    """entity, entity_poly, entity_poly_seq, struct_asym and pdbx_poly_seq_scheme loops."""
    ent = range(1, len(chains) + 1)
    one = {v: k for k, v in THREE.items()}
    return [
        *_loop("entity", "id type", [f"{e} polymer" for e in ent]),
        *_loop(
            "entity_poly",
            "entity_id type pdbx_seq_one_letter_code_can pdbx_strand_id",
            [
                f"{e} polypeptide(L) {''.join(one.get(r, 'X') for r in c.residues)} {c.chain_id}"
                for e, c in zip(ent, chains, strict=True)
            ],
        ),
        *_loop(
            "entity_poly_seq",
            "entity_id num mon_id hetero",
            [
                f"{e} {i} {r} n"
                for e, c in zip(ent, chains, strict=True)
                for i, r in enumerate(c.residues, start=1)
            ],
        ),
        *_loop(
            "struct_asym",
            "id entity_id",
            [f"{_asym(e)} {e}" for e in ent],
        ),
        *_loop(
            "pdbx_poly_seq_scheme",
            "asym_id entity_id seq_id mon_id ndb_seq_num pdb_seq_num auth_seq_num pdb_mon_id "
            "auth_mon_id pdb_strand_id pdb_ins_code hetero",
            [
                f"{_asym(e)} {e} {i} {r} {i} {i} {i} {r} {r} {c.chain_id} . n"
                for e, c in zip(ent, chains, strict=True)
                for i, r in enumerate(c.residues, start=1)
            ],
        ),
    ]


def moved(chain: Chain, shift: tuple[float, float, float], chain_id: str | None = None) -> Chain:
    """A copy of ``chain`` translated by ``shift`` (optionally renamed)."""
    return transformed(chain, np.eye(3), np.asarray(shift, dtype=float), chain_id or chain.chain_id)


def mmcif(entry: str, chains: list[Chain], polymer_categories: bool = True) -> str:
    """Minimal mmCIF text of ``chains`` (one entity per chain) for PDB id ``entry``.

    ``polymer_categories=False`` writes only ``atom_site`` (+ entry, cell, symmetry): mkdssp 4
    then finds no residues, as with files from tools that keep only the coordinates.
    """
    lines = [
        f"data_{entry}",
        "#",
        f"_entry.id {entry}",
        "#",
        f"_cell.entry_id {entry}",
        "_cell.length_a 1.000",
        "_cell.length_b 1.000",
        "_cell.length_c 1.000",
        "_cell.angle_alpha 90.00",
        "_cell.angle_beta 90.00",
        "_cell.angle_gamma 90.00",
        "#",
        f"_symmetry.entry_id {entry}",
        "_symmetry.space_group_name_H-M 'P 1'",
        "#",
        *(_polymer_categories(chains) if polymer_categories else []),
        "loop_",
        *(f"_atom_site.{field}" for field in ATOM_SITE),
    ]
    serial = 0
    for entity, chain in enumerate(chains, start=1):
        for seq_id, (name, residue) in enumerate(
            zip(chain.residues, chain.atoms, strict=True), start=1
        ):
            for atom, (x, y, z) in residue.items():
                serial += 1
                lines.append(
                    f"ATOM {serial} {atom[0]} {atom} . {name} {_asym(entity)} {entity} {seq_id} ? "
                    f"{x:.3f} {y:.3f} {z:.3f} 1.00 20.00 {seq_id} {name} {chain.chain_id} {atom} 1"
                )
    lines.append("#")
    return "\n".join(lines) + "\n"
