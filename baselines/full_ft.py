"""Old import path of the `full-ft` variant (an entry in reference_model/hmvlm/variants.py)."""
from baselines.variants import FullFTModel  # noqa: F401
