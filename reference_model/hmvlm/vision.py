"""Vision path for pose-from-image: image encoder -> LLaVA-style projector -> `<image>` tokens.

Paper (HMVLM sec. 3.3): CLIP ViT-L/14 + the LLaVA projector (a 2-layer MLP with GELU, LLaVA-1.5
`mlp2x_gelu`). Offline presets: a small CNN over the rendered image (resized to
`image_size`) whose k x k pooled feature map gives k*k patch tokens. The CNN is first
pretrained alone to regress the 22 root-relative joints from rendered frames (seconds on a
CPU), then frozen; only the projector trains with the LLM.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import N_JOINTS

VISION_FILE = "vision.safetensors"


def preprocess_images(images: Sequence[np.ndarray] | np.ndarray, size: int) -> torch.Tensor:
    """(H, W, 3) uint8 or [0, 1] float images -> (N, 3, size, size) float in [-1, 1]."""
    out = []
    for img in images:
        a = np.asarray(img)
        if a.ndim == 2:
            a = np.repeat(a[..., None], 3, axis=-1)
        if a.ndim != 3 or a.shape[-1] not in (3, 4):
            raise UserError(f"expected an (H, W, 3) image, got shape {a.shape}")
        t = torch.as_tensor(a[..., :3].astype(np.float32))
        if a.dtype == np.uint8 or float(t.max()) > 1.5:
            t = t / 255.0
        t = t.permute(2, 0, 1)[None]
        if t.shape[-1] != size or t.shape[-2] != size:
            t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out.append(t[0] * 2.0 - 1.0)
    return torch.stack(out) if out else torch.zeros(0, 3, size, size)


class PoseCNN(nn.Module):
    """Image (N, 3, S, S) -> patch features (N, k*k, 2*width); head regresses joints (pretraining)."""

    def __init__(self, width: int = 64, patches: int = 4) -> None:
        super().__init__()
        k = int(math.isqrt(patches))
        if k * k != patches:
            raise UserError(f"image_patches must be a square number, got {patches}")
        self.grid = k
        self.feature_dim = 2 * width
        self.body = nn.Sequential(
            nn.Conv2d(3, width // 2, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv2d(width // 2, width, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=1, padding=1), nn.GELU(),
        )
        # joints in the camera heading frame + (cos, sin) of the camera yaw relative to the body
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(patches * 2 * width, 256), nn.GELU(),
                                  nn.Linear(256, N_JOINTS * 3 + 2))

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(self.body(x), self.grid)  # (N, C, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Patch tokens (N, k*k, C)."""
        return self.feature_map(x).flatten(2).transpose(1, 2)

    def regress(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(joints (N, 22, 3) in the camera heading frame, yaw (N,) radians)."""
        out = self.head(self.feature_map(x))
        return out[:, :-2].reshape(-1, N_JOINTS, 3), torch.atan2(out[:, -1], out[:, -2])

    def _raw(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.feature_map(x))


class CLIPPatchEncoder(nn.Module):
    """Paper path: CLIP ViT (local checkpoint dir) patch features of the penultimate layer (LLaVA)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        import os

        from transformers import CLIPVisionModel

        from reference_model import paper_shapes

        if paper_shapes.is_random(path):  # ViT-L/14 shapes, random weights (smoke tests)
            self.model = paper_shapes.random_clip_vision(path)
            self.feature_dim = int(self.model.config.hidden_size)
            self.image_size = int(self.model.config.image_size)
            return
        if not os.path.isdir(path):
            raise UserError(f"CLIP vision path {path!r} is not a local directory (no model hub here)")
        self.model = CLIPVisionModel.from_pretrained(path, local_files_only=True).eval().requires_grad_(False)
        self.feature_dim = int(self.model.config.hidden_size)
        self.image_size = int(self.model.config.image_size)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # CLIP normalisation (OpenAI mean/std) from our [-1, 1] input
        mean = torch.tensor([0.4815, 0.4578, 0.4082], device=x.device).view(1, 3, 1, 1)
        std = torch.tensor([0.2686, 0.2613, 0.2758], device=x.device).view(1, 3, 1, 1)
        x = ((x + 1) / 2 - mean) / std
        hidden = self.model(pixel_values=x, output_hidden_states=True).hidden_states[-2]
        return hidden[:, 1:]  # drop CLS, as LLaVA


class Projector(nn.Module):
    """LLaVA-1.5 `mlp2x_gelu`: Linear -> GELU -> Linear into the LLM embedding space."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class VisionTower(nn.Module):
    """Frozen encoder + trainable projector: images -> (N, patches, d_llm)."""

    def __init__(self, encoder: nn.Module, d_llm: int) -> None:
        super().__init__()
        self.encoder = encoder.eval().requires_grad_(False)
        self.projector = Projector(encoder.feature_dim, d_llm)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            feats = self.encoder(pixels)
        return self.projector(feats.to(self.projector.net[0].weight.dtype))

    def train(self, mode: bool = True) -> "VisionTower":
        super().train(mode)
        self.encoder.eval()  # frozen: keep eval-mode behaviour
        return self


def heading_frame(joints: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
    """Rotate (N, 22, 3) body-frame joints about Y by -yaw: the camera's heading frame
    (camera on +Z), as `tasks/pose_from_image.camera_heading_frame` defines the target."""
    c, s = torch.cos(yaw), torch.sin(yaw)
    x, y, z = joints.unbind(-1)
    return torch.stack([c[:, None] * x - s[:, None] * z, y, s[:, None] * x + c[:, None] * z], dim=-1)


def pretrain_cnn(pixels: torch.Tensor, joints: torch.Tensor, yaw: torch.Tensor, width: int, patches: int,
                 steps: int, seed: int = 0, batch: int = 32, lr: float = 2e-3) -> tuple[PoseCNN, list[float]]:
    """Regress camera-frame joints and the camera yaw from images (N, 3, S, S); `joints`
    are body-frame root-relative (N, 22, 3), `yaw` the render cameras' yaw (N,)."""
    if pixels.shape[0] != joints.shape[0] or pixels.shape[0] == 0:
        raise UserError("pretrain_cnn needs as many images as joint sets, and at least one")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cnn = PoseCNN(width, patches)
    gen = torch.Generator().manual_seed(seed + 7)
    opt = torch.optim.AdamW(cnn.parameters(), lr=lr)
    losses = []
    cnn.train()
    for step in range(steps):
        idx = torch.randint(pixels.shape[0], (min(batch, pixels.shape[0]),), generator=gen)
        out = cnn._raw(pixels[idx])
        target = torch.cat([heading_frame(joints[idx], yaw[idx]).flatten(1),
                            torch.stack([torch.cos(yaw[idx]), torch.sin(yaw[idx])], -1)], dim=1)
        loss = F.mse_loss(out, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return cnn.eval().requires_grad_(False), losses


def build_encoder(kind: str, width: int, patches: int, path: str | None) -> nn.Module:
    if kind == "clip":
        return CLIPPatchEncoder(path or "")
    return PoseCNN(width, patches)


__all__ = ["CLIPPatchEncoder", "PoseCNN", "Projector", "VISION_FILE", "VisionTower", "heading_frame", "preprocess_images",
           "pretrain_cnn", "build_encoder"]
