"""Licences of the data files, as the data mirror's READMEs state them (plain data).

Keyed by the file's ``mirror_path`` (``files.<key>.mirror_path`` in the config), which names the
same file whatever the config calls it. The texts are those of ``ss/README.md`` and
``localization/README.md`` of the data mirror (``../shared/data``); a file not listed here is
"not recorded". The profile database's sources list theirs in ``seqdb/README.md``.
"""

from __future__ import annotations

SS_README = "ss/README.md of the data mirror"
LOCALIZATION_README = "localization/README.md of the data mirror"
SEQDB_README = "seqdb/README.md of the data mirror"
NOT_RECORDED = "not recorded"

_DEEPLOC2 = (
    "none stated by the repository bivekpok/esm_deeploc (data: DeepLoc 2.0, DTU Health Tech)"
)

#: mirror_path -> (licence as stated, where it is stated).
DATA_LICENCES: dict[str, tuple[str, str]] = {
    "ss/raw/prottrans_netsurfp2/Train_valid.zip": (
        "none stated (data: NetSurfP-2.0, academic use)",
        SS_README,
    ),
    "ss/raw/prottrans_netsurfp2/CB513_HHblits.csv": ("CC0-1.0", SS_README),
    "ss/raw/prottrans_netsurfp2/TS115_HHblits.csv": ("CC0-1.0", SS_README),
    "ss/raw/prottrans_netsurfp2/CASP12_HHblits.csv": ("research/education use", SS_README),
    "ss/raw/af3_cb513_zhou/CB513_preprocessed.csv": ("none stated", SS_README),
    "ss/raw/flip_secondary_structure/splits.zip": ("AFL-3.0", SS_README),
    **{
        f"localization/deeploc2_original/Outer_Fold_{k}_Inner_Fold_1_valid_manifest.csv.gz": (
            _DEEPLOC2,
            LOCALIZATION_README,
        )
        for k in range(1, 6)
    },
    "localization/deeploc1_original/deeploc_test_set.fasta.gz": (
        "MIT (repository HannesStark/protein-localization; DeepLoc data CC BY 4.0)",
        LOCALIZATION_README,
    ),
}


def licence_of(mirror_path: str | None) -> tuple[str, str]:
    """(licence, where it is stated) of the file at ``mirror_path``."""
    return DATA_LICENCES.get(mirror_path or "", (NOT_RECORDED, ""))
