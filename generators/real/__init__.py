"""Real-world pairs: photos, videos, time-lapses; alignment and change proposals."""
