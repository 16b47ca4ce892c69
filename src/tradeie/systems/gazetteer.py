"""World knowledge for the actor gazetteer: country names and capitals from maintained lists.

- :func:`pycountry_names`: ``pycountry``'s names and common names as written
  (none with a comma or brackets): the gazetteer without countryinfo;
- :func:`country_names`: ``pycountry``'s names and common names (its
  "Congo, The Democratic Republic of the" inverted to "Democratic Republic of
  the Congo") and ``countryinfo``'s names and alternative spellings, without
  ISO codes ("CD", "COD") and non-Latin scripts;
- :func:`capital_names`: ``countryinfo``'s capitals, without the ones that are
  also common first or family names or English words ("Victoria",
  "Hamilton", "Kingston", ...). A capital is an ACTOR only where it stands for
  a government; the ``place`` constraint drops it where it is a location.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: countryinfo capitals that are also common names or words, or several places in one string.
AMBIGUOUS_CAPITALS = frozenset(
    (
        "Victoria",
        "City of Victoria",
        "Kingston",
        "Kingstown",
        "Hamilton",
        "Stanley",
        "Douglas",
        "Plymouth",
        "Jamestown",
        "George Town",
        "Georgetown",
        "The Valley",
        "West Island",
        "Flying Fish Cove",
        "King Edward Point",
        "Diego Garcia",
        "Saint-Denis",
        "Saint-Pierre",
        "Marigot",
        "Road Town",
        "Kralendijk / Oranjestad / The Bottom",
    )
)
#: countryinfo alternative spellings that are English words, demonyms or too vague to name a country.
NOT_COUNTRY_NAMES = frozenset(
    (
        "Island",
        "Mann",
        "Prathet",
        "Portuguesa",
        "Mexicanos",
        "Montenegrin",
        "Guiana",
        "Dominique",
        "Lao",
        "Nation of Brunei",
    )
)
_LATIN = re.compile(r"^[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f .'\u2019-]*$")
#: "Congo, The Democratic Republic of the" -> ("Congo", "The Democratic Republic of the").
_INVERTED = re.compile(r"^(?P<name>[^,()]+), (?P<prefix>[^,()]+)$")


def _invert(name: str) -> str | None:
    """pycountry's "Name, Prefix" form as running text ("Korea, Republic of" -> "Republic of Korea")."""
    match = _INVERTED.match(name)
    if match is None:
        return None
    prefix = match["prefix"]
    if prefix.lower().startswith("the "):
        prefix = prefix[4:]
    return f"{prefix} {match['name']}"


def _usable(name: str) -> bool:
    return (
        bool(name)
        and name not in NOT_COUNTRY_NAMES
        and _LATIN.match(name) is not None
        and not (name.isupper() and len(name) <= 3)
    )


def _add_name(names: set[str], value: str) -> None:
    """Add ``value`` to ``names`` in running-text order, if it is usable as a country name."""
    value = _invert(value) if "," in value else value
    if value and _usable(value):
        names.add(value)


@lru_cache(maxsize=1)
def pycountry_names() -> tuple[str, ...]:
    """Country names from pycountry (name and common name) as written: the gazetteer without countryinfo."""
    import pycountry

    names = set()
    for country in pycountry.countries:
        for attr in ("name", "common_name"):
            value = getattr(country, attr, None)
            if value and "," not in value and "(" not in value:
                names.add(value)
    return tuple(sorted(names))


@lru_cache(maxsize=1)
def country_names() -> tuple[str, ...]:
    """Country names from pycountry and countryinfo (see the module docstring)."""
    import countryinfo
    import pycountry

    names: set[str] = set()
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "(" not in value:
                _add_name(names, value)
    demonyms = {d for d in (_demonym(c) for c in countryinfo.all_countries()) if d}
    for country in countryinfo.all_countries():
        codes = {c for c in (country.iso().values() if isinstance(country.iso(), dict) else ()) if isinstance(c, str)}
        alternatives = [v for v in country.alt_spellings() or () if v not in demonyms]  # "Thai", "Togolese"
        for value in (country.name(), *alternatives):
            if isinstance(value, str) and value not in codes:
                _add_name(names, value)
    return tuple(sorted(names))


def _demonym(country) -> str | None:
    try:
        value = country.demonym()
    except (KeyError, AttributeError):
        return None
    return value if isinstance(value, str) else None


@lru_cache(maxsize=1)
def capital_names() -> tuple[str, ...]:
    """Capitals from countryinfo, without :data:`AMBIGUOUS_CAPITALS` ("Washington D.C." -> "Washington")."""
    import countryinfo

    names: set[str] = set()
    for country in countryinfo.all_countries():
        capital = country.capital()
        for value in capital if isinstance(capital, list) else [capital]:
            if not isinstance(value, str) or value in AMBIGUOUS_CAPITALS:
                continue
            value = value.removesuffix(" D.C.")
            if _usable(value):
                names.add(value)
    return tuple(sorted(names))
