"""Steps for the TLS certificates of every node (the guide's "TLS certificates")."""
