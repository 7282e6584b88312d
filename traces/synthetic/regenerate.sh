#!/usr/bin/env sh
# Re-fit the models to the real Ghoshal 2022 set and regenerate the shipped synthetic traces.
# Run from the repository root; the real set is expected at ../shared/traces/ghoshal-5gmemu2022
# (download: github.com/NUWiNS/sigcomm-5gmemu-5g-mmWave-uplink-data, commit 255526a8).
set -e
REAL=${1:-../shared/traces/ghoshal-5gmemu2022}
mercury_sim() { python -m simulator "$@"; }
mercury_sim traces fit "$REAL" traces/synthetic/models.yaml
for p in lte-static lte-walking lte-driving 5g-static 5g-walking 5g-driving; do
  mercury_sim traces synth --profile "$p" --duration-s 600 --seed 1 "traces/synthetic/$p.csv"
done
# 'all' mixes are longer: the sampling sd of their mean (30 seeds) is ~0.9 % (LTE, 7200 s) and ~1.4 % (5G, 14400 s)
mercury_sim traces synth --profile lte-all --duration-s 7200 --seed 1 traces/synthetic/lte-all.csv
mercury_sim traces synth --profile 5g-all --duration-s 14400 --seed 1 traces/synthetic/5g-all.csv
