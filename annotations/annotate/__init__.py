"""``omnidiff annotate``: a local web page for human captions and change-type labels."""
