"""Steps for the guides' certificate actions, performed on the site's scratch Management Node:
one module per thing acted on (`scenario` holds what they share)."""
