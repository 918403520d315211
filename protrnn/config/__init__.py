"""The workflow configuration: schema validation, cross-checks, folds, input sources."""
