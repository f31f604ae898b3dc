"""What a run writes and measures: records in the workdir, compile counters."""
