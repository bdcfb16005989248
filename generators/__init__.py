"""Pair generators: synthetic/ (Blender renders) and real/ (photos, videos, time-lapses)."""
