"""The wallet's domain: the shard decider and the wallet's names, pure Python, no I/O."""
