"""AI components built on the runtime: providers, tools, agents, memory, workflows, stores."""
