"""Tests of Send Songs, mirroring the package layout."""
