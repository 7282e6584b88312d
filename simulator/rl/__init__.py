"""Learned schedules: the Gymnasium environment over the simulator (:mod:`simulator.rl.env`), registered on
import as ``mercury-sim/Offload-v0``; ``gymnasium.make("simulator.rl:mercury-sim/Offload-v0", scenario=...)``
imports this package first (Gymnasium 1.x loads no environment entry points of installed packages by itself).
"""

from __future__ import annotations

import gymnasium

ENV_ID = "mercury-sim/Offload-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point="simulator.rl.env:OffloadEnv", disable_env_checker=False)
