"""tasks plugins for hmvlm-bench."""
