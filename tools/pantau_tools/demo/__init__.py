"""Demo data for a local Pantau: a few hundred realistic cases for Kota Bandung and Kab. Bandung.
History is imported as the operator would (``pantau.accepted`` with simulated received times);
recent events go through the real signed intake HTTP API, so every hop runs. See ``__main__``."""
