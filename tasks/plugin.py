"""The one place task plugins register. A new task: one module + one line here.

Hidden tasks need a user-supplied file (`--data NAME=PATH`), so `--tasks all` skips them.
"""
from __future__ import annotations

from hmvlm_bench.registry import Registries

T2M_VARIANTS = ("t2m", "t2m_first_token", "t2m_last_token", "t2m_compositional")


def register(regs: Registries) -> None:
    t = regs.tasks
    t.register("t2m", "tasks.t2m:T2MTask", aliases=("text2motion",),
               description="text-to-motion, plain prompt (R-precision, FID, MM-Dist, Diversity)")
    t.register("t2m_first_token", "tasks.t2m:T2MFirstTokenTask",
               description="text-to-motion, text + given first motion token")
    t.register("t2m_last_token", "tasks.t2m:T2MLastTokenTask",
               description="text-to-motion, text + given last motion token")
    t.register("t2m_compositional", "tasks.t2m:T2MCompositionalTask",
               description="text-to-motion on the test_compositional split")
    t.register_group("t2m_all", list(T2M_VARIANTS), description="all text-to-motion variants")
    t.register("m2t", "tasks.m2t:M2TTask", aliases=("motion2text", "captioning"),
               description="motion captioning (R-precision, BLEU, ROUGE-L, CIDEr, BERTScore)")
    t.register("pose_from_image", "tasks.pose_from_image:PoseFromImageTask",
               description="3D pose from a rendered image (MPJPE, PA-MPJPE, PCK)")
    t.register("pose_from_image_h36m", "tasks.pose_from_image:PoseH36MTask", hidden=True,
               description="3D pose, Human3.6M evaluation file (--data h36m=FILE.npz)")
    t.register("pose_from_image_3dpw", "tasks.pose_from_image:Pose3DPWTask", hidden=True,
               description="3D pose, 3DPW evaluation file (--data 3dpw=FILE.npz)")
    t.register("reconstruction", "tasks.reconstruction:ReconstructionTask",
               description="tokenizer round trip (MSE, MPJPE, per-part errors, codebook usage)")
    t.register("reconstruction_bvh", "tasks.reconstruction:ReconstructionBVHTask", hidden=True,
               description="tokenizer round trip on imported BVH motion (--data bvh=DIR)")
    t.register("forgetting", "tasks.forgetting:Forgetting",
               description="general-language suites via lm-eval: tuned vs base LLM (news ppl, knowledge MC, retention)")
