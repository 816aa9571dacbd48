"""Old import path of the `lora` variant (an entry in reference_model/hmvlm/variants.py)."""
from baselines.variants import LoRAModel  # noqa: F401
