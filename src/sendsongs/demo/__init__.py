"""`sendsongs demo`: the bot and the sandbox in one process, with a page to try them."""
