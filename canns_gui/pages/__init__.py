"""The wizard's pages: each gathers parameters, starts core stages on the task runner, shows results."""
