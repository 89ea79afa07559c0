#!/usr/bin/env bash
# CI step: the SLURM chain (scripts/slurm) on a real single-node SLURM
# cluster, against the same run made with make; see scripts/slurm-check.sh.
# As root it installs Debian's slurmctld, slurmd, slurm-client and munge
# when missing; it skips with a message (exit 0) where it is not root or
# cannot install them. Run from the repository root; about 5 minutes on 2
# cores, plus the install.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/slurm-check.sh
