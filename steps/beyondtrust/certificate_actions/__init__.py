"""Steps for the BeyondTrust guide's certificate actions, performed on the scratch appliance: one
module per thing acted on (`scenario` holds what they share)."""
