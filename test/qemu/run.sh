#!/usr/bin/env bash
# The QEMU lab suite: builds the router image (cached in .cache/qemu/), then runs the lab's scenarios
# (qemu/scenarios/: smoke = 3 nodes in a line, failover = ring of 4 with a link cut, mesh = full mesh of 4,
# star = custom edge list, impair = netem delay/loss, xdp = the XDP blocklist rerouting the mesh, agent = 5 routers
# each running only x0 agent, installed by opkg and run by procd, heal = the ring-of-4 link cut with self-healing off, then on, one cut each,
# heal-more = the same ring, off then on: steady mesh, degraded Raft anchor, a flood, a flapping link (STEADY_MINUTES=1),
# arm = an emulated AArch64 router (qemu-system-aarch64, cross-built x0-runtime) between two x86-64 ones)
# on real batman-adv in TCG guests.
# X0_LAB_INSTALL=files: the older image (the agent copied in, run under busybox init; qemu/README.md).
# Each check of each scenario counts as one test.
# Results: build/lab/<scenario>.json.
# Usage: bash test/qemu/run.sh [SCENARIO...]      Last line: N passed, N failed, N skipped
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

skip() {
  echo "SKIPPED: $*"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86; listed in scripts/apt-packages/qemu.txt)"
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || skip "the image builder needs a Debian host (apt-get, dpkg-deb)"
[ -d node_modules/tsx ] || skip "node_modules is missing: run bash scripts/setup.sh"

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(smoke failover mesh star impair xdp agent heal heal-more arm)

# Whatever happens to the runner, no VM outlives this suite: kill each QEMU it recorded, by pid, after
# checking that the pid still is that VM (its command line names the VM's folder). Only this run's scenarios'
# folders: another lab run on the machine (another scenario) keeps its VMs.
teardown() {
  local pidfile pid s
  for pidfile in $(for s in "${scenarios[@]}"; do echo "$root/build/lab/$s"/node-*/qemu.pid; done); do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$(dirname "$pidfile")/"; then
      echo "teardown: killing leftover VM $pid ($(dirname "$pidfile"))"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}
trap teardown EXIT
trap 'exit 130' INT TERM

for s in "${scenarios[@]}"; do rm -f "build/lab/$s.json"; done
start=$(date +%s)
node --import tsx qemu/lab.ts test "${scenarios[@]}"
rc=$?
echo "lab: runner exited $rc after $(( $(date +%s) - start )) s"

# Count the checks in the JSON results; a scenario without a result file counts as one failure.
node -e '
  const fs = require("fs");
  let pass = 0, fail = 0, skip = 0;
  for (const name of process.argv.slice(1)) {
    const file = `build/lab/${name}.json`;
    if (!fs.existsSync(file)) { console.log(`FAIL ${name}: no result (${file})`); fail++; continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const c of r.checks) {
      if (c.status === "pass") pass++; else if (c.status === "fail") fail++; else skip++;
    }
  }
  fs.writeFileSync("build/lab/.counts", `${pass} ${fail} ${skip}\n`);
' "${scenarios[@]}"
read -r pass fail skip < build/lab/.counts
rm -f build/lab/.counts
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; echo "lab: the runner failed without a failed check (exit $rc)"; fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
