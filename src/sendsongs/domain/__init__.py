"""Pure rules of Send Songs: no I/O, no clock, no vendor SDKs."""
