"""Demo data for a local Pantau: a few hundred realistic cases for Kota Bandung's departments,
sent through the real intake HTTP API (signed with the dev credentials), so every hop runs."""
