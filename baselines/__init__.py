"""Baselines compared against the reference HMVLM (imported lazily by name)."""
