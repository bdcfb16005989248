"""Caption metrics as pycocoevalcap 1.2 computes them, with fast exact subsets."""
