"""What the workflow reads of the installed software and of its own code while it parses the DAG:
``params`` values of the rules, so that Snakemake reruns a job when one changes (its own triggers
see inputs, params, the rule's script and conda envs, not a tool on PATH or protrnn's modules).

Each value is looked up once per Snakemake run; none raises (a missing tool is a stable word).
"""

from __future__ import annotations

import functools
from pathlib import Path

from protrnn.core.code_digest import code_digest
from protrnn.core.tools import installed_version


@functools.cache
def tool_version(tool: str) -> str:
    """The version of a profile backend's tool (``mmseqs2`` also for the redundancy check) or of
    ``dssp`` as installed here, or ``not found (...)``."""
    return installed_version(tool)


@functools.cache
def script_code(workflow_dir: str, script: str) -> str:
    """The digest of ``scripts/{script}.py`` and of the protrnn code it imports."""
    return code_digest(Path(workflow_dir) / "scripts" / f"{script}.py")
