"""Motion data layer: skeleton constants, HumanML3D features, datasets, synthesis, rendering.

Submodules are imported on demand (`from hmvlm_bench.motion.features import ...`) so that
importing this package stays cheap.
"""
