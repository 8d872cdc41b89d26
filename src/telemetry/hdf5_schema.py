"""The layout of a run file, shared by the `hdf5` writer and `src.analysis` (docs/hdf5_schema.md)."""
import numpy as np

SCHEMA_VERSION = 1
METRICS_GROUP = "metrics"
RECORD_DTYPE = np.dtype([("step", "<i8"), ("value", "<f8")])
LIBVER = ("v110", "v110")  # SWMR needs v110; capping it keeps HDF5 1.10 tools (h5ls, h5clear) able to read
