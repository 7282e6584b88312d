"""Many runs with a purpose.

* ``sweep``: a grid of scenario overrides, run point by point (resumable) and summarised over seeds;
  ``executors``: where the points run (in process, a process pool, Dask);
* ``claims``: a claims file (what a paper says, as checks on scenario results); ``check``: running a claims
  file's scenarios and checking every claim;
* ``calibration``: an A/A study of how often ``compare`` calls identical configurations different.

May import: every layer below it (the model, results folders, report pages); never the CLI or torch.
"""
