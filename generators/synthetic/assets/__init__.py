"""The user's own 3D assets (``omnidiff render --assets catalog.json``): a catalog of .blend, .glb/.gltf,
.obj and .fbx files that become asset families beside the procedural ones.

``catalog.py`` reads and checks the catalog (every problem is one line naming the asset, the field or the
file, before anything renders); ``register.py`` turns its entries into families; the renderer probes the
files once (``renderer/assets.py``: size, material slots, text objects) and imports them per instance.
"""
