"""Last.fm as a play-history source: public scrobbles, read by user name."""
