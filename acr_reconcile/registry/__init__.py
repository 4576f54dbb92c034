"""The registry data plane below everything that reads or signs: the Bearer token protocol
(``tokens``), ACR's token exchange from an Azure credential (``acr_auth``) and the OCI
distribution client (``client``), and the one retry policy of their HTTP sessions
(``sessions``). Trust (Notary) and the live readers build on it; it
imports nothing of the tool but ``errors``.
"""
