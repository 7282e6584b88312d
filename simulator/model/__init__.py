"""The simulation: from a scenario to per-request records, a summary and warnings.

* resources: ``uplink`` (dedicated links and a processor-shared cell), ``cloud`` (the GPU pool and its
  batching), ``topology`` (servers beyond the cloud and the links between them), ``framing`` (packet
  overhead);
* engines: ``engine`` (the discrete-event simulation), ``graph_engine`` (stage graphs), ``fastpath`` (the
  closed form where it applies); ``records`` (per-request columns);
* per-request accounting: ``energy``, ``after_idle`` (the opt-in cost of a compute burst after idling);
* the run: ``resolve`` (a scenario's files, loaded), ``runner`` (builds the schedules, picks the engine,
  runs each seed), ``replications`` (a run per seed, summarised over seeds), ``summary`` (per schedule);
* doubt: ``offered_load`` (each resource's rho), ``uplink_load`` (a trace too slow for the first upload),
  ``diagnostics`` (the checks behind every warning).

May import: every layer below it (``errors``, ``endings``, ``files``, ``inputs``, ``traces``, ``config``,
``analysis``, ``plans``, ``schedules``); never the report, results folders, studies, the CLI or torch.
"""
