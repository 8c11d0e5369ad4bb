"""`make bench`: the SDK and the local server measured side by side in one run.

Every figure is a ratio or a count of things measured in the same run, because shared
machines are noisy; absolute times are printed beside them for context. Run it with
`scripts/bench` (or `python -m benchmarks`); `--quick` gives a short smoke run.
"""
