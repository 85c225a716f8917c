"""Third-party Outreach clients run against the emulator, each in its own virtual environment."""
