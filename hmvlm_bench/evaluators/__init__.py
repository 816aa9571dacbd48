"""Text-motion evaluators behind one interface (`Evaluator`): Guo et al.'s official
matching model (`guo_t2m`) and our trainable contrastive one (`contrastive`)."""
from hmvlm_bench.evaluators.base import Evaluator

__all__ = ["Evaluator"]
