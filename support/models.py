"""Support has no tables of its own.

The module exists because Django sends post_migrate only to apps with a models
module, and `support.roles.groups_ensure` hangs off that signal.
"""
