"""The console's pages, one module per kind of user (importing a module declares its routes)."""
