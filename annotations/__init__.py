"""The data layer: change taxonomy, pair record schema, Parquet store, validation, stats, hub export.

Imports none of the other packages of this project.
"""

from annotations.errors import OmniDiffError, StoreError, UnknownChangeType
from annotations.schema import (
    COLUMNS,
    DOMAINS,
    IMAGE_COLUMNS,
    METADATA_COLUMNS,
    SCHEMA_VERSION,
    SPLITS,
    Box,
    PairRecord,
    arrow_schema,
)
from annotations.layout import ShardInfo
from annotations.store import Store
from annotations.taxonomy import TAXONOMY, ChangeType, Taxonomy

__all__ = [
    "COLUMNS", "DOMAINS", "IMAGE_COLUMNS", "METADATA_COLUMNS", "SCHEMA_VERSION", "SPLITS",
    "Box", "ChangeType", "OmniDiffError", "PairRecord", "ShardInfo", "Store", "StoreError", "TAXONOMY", "Taxonomy",
    "UnknownChangeType", "arrow_schema",
]
