"""Probes: what a node shows to the network, observed from outside as a client would."""
