"""An old scenario key (``params.RENAMED``) is refused with one line naming its new key,
wherever a key is read: a scenario file's flat keys and sections, and ``Scenario.replace``."""

from __future__ import annotations

import pytest

from mutualsim import params
from mutualsim.errors import InputError
from mutualsim.params import Scenario, scenario_from_mapping


@pytest.fixture
def old_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A made-up old name for ``contract_years`` (section 'protection')."""
    monkeypatch.setitem(params.RENAMED, "contract_length", "contract_years")
    return "contract_length"


def _message(exc: pytest.ExceptionInfo[InputError]) -> str:
    return str(exc.value)


def test_flat_old_key_names_the_new_one(old_key: str) -> None:
    with pytest.raises(InputError) as exc:
        scenario_from_mapping({old_key: 4}, source="s.toml")
    msg = _message(exc)
    assert "'contract_length' was renamed to 'contract_years'" in msg
    assert "s.toml" in msg and "\n" not in msg


def test_old_key_in_a_section_names_the_new_one(old_key: str) -> None:
    with pytest.raises(InputError) as exc:
        scenario_from_mapping({"protection": {old_key: 4}}, source="s.toml")
    assert "was renamed to 'contract_years'" in _message(exc)


def test_replace_with_an_old_key_names_the_new_one(old_key: str) -> None:
    with pytest.raises(InputError) as exc:
        Scenario().replace(**{old_key: 4})
    assert "was renamed to 'contract_years'" in _message(exc)


def test_a_key_never_renamed_is_still_unknown() -> None:
    with pytest.raises(InputError) as exc:
        scenario_from_mapping({"no_such_key": 1}, source="s.toml")
    assert "unknown key 'no_such_key'" in _message(exc)


@pytest.mark.parametrize("old,new", sorted(params.RENAMED.items()))
def test_every_renamed_key_points_to_a_real_field(old: str, new: str) -> None:
    assert new in params.FIELD_NAMES and old not in params.FIELD_NAMES
