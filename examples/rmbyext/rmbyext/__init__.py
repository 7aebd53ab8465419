"""rmbyext deletes the files in the current directory that have the given extensions."""
