"""Compatibility re-export: the task kit (split-task base classes, option readers, model
calls with the failure budget, evaluator embeddings, metric summaries) lives in the core,
`hmvlm_bench.taskkit`, so a task plugin imports only `hmvlm_bench`. New code imports it
from there."""
from __future__ import annotations

from hmvlm_bench.taskkit import *  # noqa: F401,F403
from hmvlm_bench.taskkit import __all__  # noqa: F401
