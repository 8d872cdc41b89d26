"""Built-in plugins, one per file, registered through the `ranktrace` entry-point group."""
