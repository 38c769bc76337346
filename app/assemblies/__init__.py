"""Member assemblies: convocations, proposals, ballots, proxies, results, minutes and the audit log."""
