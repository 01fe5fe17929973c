"""One module per CLI verb (see synth_core.cli.VERBS)."""
