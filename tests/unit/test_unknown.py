"""Preview-time unknowns are recognised however deep they sit, in both forms the SDK has used."""

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from infra.files import RenderedFileProvider
from infra.unknown import is_unknown


def test_unknown_forms_and_nesting() -> None:
    assert is_unknown(Unknown()) and is_unknown(UNKNOWN)
    assert is_unknown({"a": [1, {"b": Unknown()}]}) and is_unknown((UNKNOWN,))
    assert not is_unknown({"a": [1, "x", None, {"b": False}]})


def test_rendered_file_check_tolerates_unknown_content() -> None:
    result = RenderedFileProvider().check({}, {"path": "/tmp/x.env", "content": Unknown(), "mode": 0o600})
    assert result.failures == []
    assert RenderedFileProvider().diff("/tmp/x.env", {"path": "/tmp/x.env"}, {"path": "/tmp/x.env",
                                                                             "content": Unknown()}).changes
