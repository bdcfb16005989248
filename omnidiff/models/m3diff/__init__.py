"""M3Diff, the paper's reference model: LLaVA-OneVision with the Multi-scale Differential Perception module.

Heavy imports (torch, transformers) live in the submodules; importing this package stays cheap.
"""
