"""Steps for the security wizard's answers (`securitywizard` on the Management Node's console)."""
