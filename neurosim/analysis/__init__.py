"""Analysis of what the substrates computed: spike statistics (:mod:`.spikes`) and population trajectories
(:mod:`.trajectories`)."""

from .spikes import (compare_traces, fano_factor, firing_rates, isi_cv, population_raster,  # noqa: F401
                     rate_distribution, spike_counts)

__all__ = ["firing_rates", "rate_distribution", "isi_cv", "spike_counts", "fano_factor", "population_raster",
           "compare_traces"]
