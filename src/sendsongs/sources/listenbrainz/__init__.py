"""ListenBrainz as a play-history source: public listens, read by user name."""
