"""``python -m protrnn.config FILE [FILE ...]``: check config files before a run.

Reads the files in order, merged as ``snakemake --configfile FILE ...`` merges them, and
validates the result. Snakemake's own message for an empty or broken ``--configfile`` names
neither the file nor the line; this does. Exit status 0 when the config is valid, 1 otherwise,
with one line naming the file (and line) or the config key.
"""

from __future__ import annotations

import sys

from protrnn.config.errors import ConfigError
from protrnn.config.experiments import selected_experiments
from protrnn.config.load import load_config_files


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths or any(p in ("-h", "--help") for p in paths):
        print(__doc__.strip().splitlines()[0].strip("`"), file=sys.stderr)
        return 0 if paths else 2
    try:
        config = load_config_files(paths)
    except ConfigError as error:
        print(f"protrnn: {'; '.join(str(error).splitlines())}", file=sys.stderr)
        return 1
    print(
        f"protrnn: config valid ({', '.join(paths)}): experiments "
        f"{', '.join(selected_experiments(config))}, preset {config['train']['preset']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
