"""Post-hoc analysis of run files: load, summarise, plot, aggregate sweeps."""
from src.analysis.run_file import Run, load_run
from src.analysis.summary import summarize

__all__ = ["Run", "load_run", "summarize"]
