"""What reads the log for people: runs, verdicts, forensics, patterns, timelines, follow, prune, the diagram."""
