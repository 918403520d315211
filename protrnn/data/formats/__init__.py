"""Input formats, one module each, parsed to the canonical dataset table."""
