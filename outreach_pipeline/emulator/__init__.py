"""A faithful emulator of the Outreach API (OAuth, S2S tokens and REST) for tests and demos."""
