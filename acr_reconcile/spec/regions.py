"""Azure region names, so a typo in ``location`` fails at validate time, not at apply time.

ARM wants the programmatic name (``westeurope``) while people write the display name
(``West Europe``) they see in the portal; both are accepted and the spec keeps the
programmatic one. The table covers the public cloud and the sovereign clouds (US Gov,
China) because the tool can point at any cloud through its metadata endpoint.
"""

from __future__ import annotations

# programmatic name -> display name (as `az account list-locations` prints them)
REGIONS: dict[str, str] = {
    # Americas
    "eastus": "East US",
    "eastus2": "East US 2",
    "centralus": "Central US",
    "northcentralus": "North Central US",
    "southcentralus": "South Central US",
    "westcentralus": "West Central US",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
    "canadacentral": "Canada Central",
    "canadaeast": "Canada East",
    "brazilsouth": "Brazil South",
    "brazilsoutheast": "Brazil Southeast",
    "brazilus": "Brazil US",
    "mexicocentral": "Mexico Central",
    "chilecentral": "Chile Central",
    "centraluseuap": "Central US EUAP",
    "eastus2euap": "East US 2 EUAP",
    # Europe
    "northeurope": "North Europe",
    "westeurope": "West Europe",
    "uksouth": "UK South",
    "ukwest": "UK West",
    "francecentral": "France Central",
    "francesouth": "France South",
    "germanywestcentral": "Germany West Central",
    "germanynorth": "Germany North",
    "switzerlandnorth": "Switzerland North",
    "switzerlandwest": "Switzerland West",
    "norwayeast": "Norway East",
    "norwaywest": "Norway West",
    "swedencentral": "Sweden Central",
    "swedensouth": "Sweden South",
    "polandcentral": "Poland Central",
    "italynorth": "Italy North",
    "spaincentral": "Spain Central",
    "austriaeast": "Austria East",
    "belgiumcentral": "Belgium Central",
    "denmarkeast": "Denmark East",
    # Asia Pacific
    "eastasia": "East Asia",
    "southeastasia": "Southeast Asia",
    "japaneast": "Japan East",
    "japanwest": "Japan West",
    "koreacentral": "Korea Central",
    "koreasouth": "Korea South",
    "centralindia": "Central India",
    "southindia": "South India",
    "westindia": "West India",
    "jioindiacentral": "Jio India Central",
    "jioindiawest": "Jio India West",
    "australiaeast": "Australia East",
    "australiasoutheast": "Australia Southeast",
    "australiacentral": "Australia Central",
    "australiacentral2": "Australia Central 2",
    "newzealandnorth": "New Zealand North",
    "indonesiacentral": "Indonesia Central",
    "malaysiawest": "Malaysia West",
    "taiwannorth": "Taiwan North",
    "taiwannorthwest": "Taiwan Northwest",
    # Middle East and Africa
    "uaenorth": "UAE North",
    "uaecentral": "UAE Central",
    "qatarcentral": "Qatar Central",
    "israelcentral": "Israel Central",
    "southafricanorth": "South Africa North",
    "southafricawest": "South Africa West",
    # Azure Government
    "usgovvirginia": "USGov Virginia",
    "usgovarizona": "USGov Arizona",
    "usgovtexas": "USGov Texas",
    "usdodcentral": "USDoD Central",
    "usdodeast": "USDoD East",
    # Azure operated by 21Vianet (China)
    "chinaeast": "China East",
    "chinaeast2": "China East 2",
    "chinaeast3": "China East 3",
    "chinanorth": "China North",
    "chinanorth2": "China North 2",
    "chinanorth3": "China North 3",
}


def _squash(value: str) -> str:
    return "".join(value.split()).lower()


_BY_SQUASHED: dict[str, str] = {_squash(name): name for name in REGIONS} | {
    _squash(display): name for name, display in REGIONS.items()
}


def normalise_region(value: str) -> str | None:
    """The programmatic name for a name or display name in any case, or None if unknown."""
    return _BY_SQUASHED.get(_squash(value))


def closest_regions(value: str, limit: int = 3) -> list[str]:
    """Known regions that look like ``value``, to suggest in an error message."""
    import difflib

    return difflib.get_close_matches(_squash(value), list(REGIONS), n=limit, cutoff=0.6)
