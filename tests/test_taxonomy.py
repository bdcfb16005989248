import pytest

from annotations import TAXONOMY, UnknownChangeType


def test_twelve_core_types_and_two_extensions():
    assert TAXONOMY.core_keys == [
        "viewpoint", "illumination", "addition", "disappearance", "removal", "substitution",
        "size", "color", "orientation", "pose", "text", "counting",
    ]
    assert TAXONOMY.extension_keys == ["movement", "material"]
    for ct in TAXONOMY:
        assert ct.definition and ct.verbs, ct.key


@pytest.mark.parametrize("label,key", [
    ("Colour", "color"), ("OCR", "text"), ("camera-move", "viewpoint"), ("drop", "disappearance"),
    ("  Rotation ", "orientation"), ("count", "counting"), ("material", "material"),
])
def test_resolve_aliases(label, key):
    assert TAXONOMY.resolve(label) == key


@pytest.mark.parametrize("label", ["explosion", "", "   "])
def test_unknown_label_is_a_clear_error(label):
    with pytest.raises(UnknownChangeType, match="unknown change type"):
        TAXONOMY.resolve(label)


def test_native_mappings():
    assert TAXONOMY.map_native("clevr_change", "drop").change_types == ("disappearance",)
    assert TAXONOMY.map_native("clevr-dc", "remove").change_types == ("disappearance",)
    distractor = TAXONOMY.map_native("clevr_change", "distractor")
    assert distractor.distractor and distractor.change_types == ("viewpoint",)
    with pytest.raises(UnknownChangeType, match="unknown clevr_dc label"):
        TAXONOMY.map_native("clevr_dc", "drop")
