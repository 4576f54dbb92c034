"""The local Azure: ARM + Entra ID + Graph + ACR token service emulator over HTTPS, in
front of the real docker-registry and notary-server."""
