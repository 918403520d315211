"""The HTML comparison report: reads result files only."""
