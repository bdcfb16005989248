"""Leaderboard tables (md, csv, latex, html) and plots from harness result files."""
