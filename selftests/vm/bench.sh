#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boot 4 guests, run tools/bench/dsm_bench on all of them, then
# the SOR stencil on 3 guests (the demo, selftests/vm/demo.sh), and turn
# the measurements into the ratios of Documentation/benchmark.md, both sides
# of each ratio from the same run; then R1 and R4 again on 4 guests whose
# links are sealed (a cluster key), the cost of sealing. Prints a table and
# writes build/bench/bench.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench
log=build/bench/bench.log
sor_log=build/bench/sor.log
sealed_log=build/bench/bench-sealed.log

selftests/vm/cluster.sh --nodes 4 --timeout 1200 -- dsm_bench | tee "$log"
selftests/vm/demo.sh | tee "$sor_log"
selftests/vm/cluster.sh --nodes 4 --key --timeout 600 -- dsm_bench sealed | tee "$sealed_log"

python3 - "$log" build/bench/bench.json "$sor_log" "$sealed_log" <<'PY'
import json, re, sys, datetime, platform, os
vals, msgs = {}, {}
def read(path, prefix):
    for line in open(path):
        m = re.match(r"\[node (\d+)\] bench: (\S+) (\S+)", line)
        if not m:
            continue
        node, name, v = int(m[1]), prefix + m[2], float(m[3])
        if m[2].startswith("msgs_") or m[2].startswith("sum_"):
            msgs[name] = msgs.get(name, 0) + v      # summed over the nodes
        else:
            vals[name] = v
read(sys.argv[1], "")
read(sys.argv[4], "sealed_")
for line in open(sys.argv[3]):
    m = re.search(r"3 nodes: (\S+) s; one node alone: (\S+) s", line)
    if m:
        vals["sor_3_nodes_s"], vals["sor_1_node_s"] = float(m[1]), float(m[2])
    m = re.search(r"page transfers per phase after the first iteration: (\S+); minimum (\d+)", line)
    if m:
        vals["sor_transfers_per_phase"], vals["sor_transfers_minimum"] = float(m[1]), float(m[2])
rtt = vals["tcp_rtt_4k_us"]
rows = [
    ("R1", "remote read fault, home owns / 4 KiB TCP round trip",
     vals["read_fault_home_owner_us"], rtt, "<= 1.3", 1.3, "le",
     f'{msgs["msgs_read_home_owner"]:.2f} msgs (2)'),
    ("R1 sealed", "R1 with a cluster key (sealed links) / round trip",
     vals["sealed_read_fault_home_owner_us"], vals["sealed_tcp_rtt_4k_us"], "(info)", None, None,
     f'{msgs["sealed_msgs_read_home_owner"]:.2f} msgs (2)'),
    ("R1b", "remote read fault, owner != home / round trip",
     vals["read_fault_owner_not_home_us"], rtt, "(info)", None, None,
     f'{msgs["msgs_read_owner_not_home"]:.2f} msgs (3)'),
]
for k in (1, 2):
    rows.append((f"R2 k={k}", f"write fault, {k} sharer(s) / k=0",
                 vals[f"write_fault_k{k}_us"], vals["write_fault_k0_us"],
                 "<= 1.5" if k == 2 else "(info)", 1.5 if k == 2 else None, "le",
                 f'{msgs[f"msgs_write_k{k}"]:.2f} msgs ({2 + 2 * k})'))
rows.append(("R2 k=0", "write fault, no sharer (absolute, us)",
             vals["write_fault_k0_us"], 1, "(info)", None, None,
             f'{msgs["msgs_write_k0"]:.2f} msgs (2)'))
rows += [
    ("R3", "locally homed page fault / anonymous page fault",
     vals["local_home_fault_us"], vals["anon_fault_us"], "<= 2", 2, "le", ""),
    ("R4", "cold sequential read of 64 MiB / TCP stream",
     vals["dsm_stream_mib_s"], vals["tcp_stream_mib_s"], ">= 0.5", 0.5, "ge", ""),
    ("R4 sealed", "R4 with a cluster key (sealed links) / TCP stream",
     vals["sealed_dsm_stream_mib_s"], vals["sealed_tcp_stream_mib_s"], "(info)", None, None, ""),
    ("R5 lock", "lock acquire+release between 2 nodes / round trip",
     (vals["lock_pair_node2_us"] + vals["lock_pair_node3_us"]) / 2, rtt, "(info)", None, None, ""),
    ("R5 barrier", "3-node barrier / round trip",
     vals["barrier_3_nodes_us"], rtt, "(info)", None, None, ""),
    ("FS node 2", "false sharing: stores/s of node 2 / node 2 alone",
     vals["fs_node2_stores_s"], vals["fs_alone_stores_s"], "> 0", 0, "gt",
     f'{msgs["msgs_fs_total"] / max(msgs["sum_fs_stores"], 1):.3f} msgs/store'),
    ("FS node 3", "false sharing: stores/s of node 3 / node 2 alone",
     vals["fs_node3_stores_s"], vals["fs_alone_stores_s"], "> 0", 0, "gt", ""),
    ("PC", "producer/consumer ring, per item / round trip",
     vals["pc_item_us"], rtt, "(info)", None, None,
     f'{msgs["msgs_pc_item"]:.2f} msgs/item'),
    ("C1", "commit of 64 written pages, 1 copy: per page / round trip",
     vals["commit_c1_page_us"], rtt, "(info)", None, None, ""),
    ("C2", "commit of 64 written pages, 2 copies: per page / round trip",
     vals["commit_c2_page_us"], rtt, "(info)", None, None, ""),
    ("C1 1p", "commit of one written page, 1 copy / round trip",
     vals["commit_c1_1page_us"], rtt, "(info)", None, None, ""),
    ("C2 1p", "commit of one written page, 2 copies / round trip",
     vals["commit_c2_1page_us"], rtt, "(info)", None, None, ""),
    ("REC", "loss declared -> 64 pages back from replicas (ms)",
     vals["recovery_ms"], 1, "(info)", None, None,
     f'{vals["recovery_wrong_pages"]:.0f} wrong'),
    ("SOR", "SOR 510x510, 40 iterations: 3 nodes / 1 node",
     vals["sor_3_nodes_s"], vals["sor_1_node_s"], "<= 5", 5, "le", ""),
    ("SOR xfers", "SOR page transfers per phase / minimum",
     vals["sor_transfers_per_phase"], vals["sor_transfers_minimum"], "<= 1.25", 1.25, "le",
     f'{vals["sor_transfers_per_phase"]:.2f} per phase'),
]
out = {"date": datetime.date.today().isoformat(),
       "machine": f"{platform.node()}, {os.cpu_count()} CPUs, guests under QEMU TCG",
       "raw": vals, "messages_per_fault": msgs, "ratios": {}}
print(f'\n{"ratio":11} {"what":55} {"value":>8}  target   {"messages":20}')
for rid, what, a, b, target, lim, how, note in rows:
    r = a / b
    met = {"le": r <= lim, "ge": r >= lim, "gt": r > lim}[how] if lim is not None else None
    ok = "" if lim is None else ("met" if met else "MISSED")
    print(f"{rid:11} {what:55} {r:8.3f}  {target:7} {note:20} {ok}")
    out["ratios"][rid] = {"what": what, "value": r, "numerator": a,
                          "denominator": b, "target": target, "status": ok or "info",
                          "messages": note}
print(f'\nround trip {rtt:.0f} us, TCP stream {vals["tcp_stream_mib_s"]:.1f} MiB/s, '
      f'dsm stream {vals["dsm_stream_mib_s"]:.1f} MiB/s')
print(f'sealing: remote read fault {vals["read_fault_home_owner_us"]:.0f} -> '
      f'{vals["sealed_read_fault_home_owner_us"]:.0f} us, dsm stream '
      f'{vals["dsm_stream_mib_s"]:.1f} -> {vals["sealed_dsm_stream_mib_s"]:.1f} MiB/s '
      f'(round trip {vals["sealed_tcp_rtt_4k_us"]:.0f} us, TCP stream '
      f'{vals["sealed_tcp_stream_mib_s"]:.1f} MiB/s in that run)')
ctxt = {n: vals.get(f"ctxt_read_node{n}", float("nan")) for n in (1, 2, 3, 4)}
out["context_switches_per_read_fault"] = ctxt
print(f'context switches per remote read fault (R1): requester (node 2) {ctxt[2]:.2f}, '
      f'home (node 1) {ctxt[1]:.2f}; idle nodes 3 and 4: {ctxt[3]:.2f}, {ctxt[4]:.2f}')
json.dump(out, open(sys.argv[2], "w"), indent=2)
print(f"wrote {sys.argv[2]}")
PY
