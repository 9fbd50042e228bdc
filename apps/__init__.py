"""Application heads (one folder each) and the `gan-app` command line."""
