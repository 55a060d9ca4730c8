"""Record a live run and replay it offline (vcrpy cassettes and observation files)."""
