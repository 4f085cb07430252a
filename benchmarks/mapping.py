"""Benchmark: map the Brunel (2000) model A network onto a chip large enough to hold it.

N_E = 10,000, N_I = 2,500 (times --scale), fixed in-degree C_E = 1,000, C_I = 250 drawn with
replacement: 15.6 M synapses at scale 1.  The chip is the `generic` preset with cores of 1,024
neurons and room for their synapses, on a mesh just large enough.  Prints the CSR build time,
the mapping wall time (partition + placement + routing tables + link loads), the report and
the peak memory.

    python benchmarks/mapping.py [--scale 1.0] [--partitioner metis|block] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import resource
import time

import numpy as np

from neurochip.chip import CoreSpec, load_chip
from neurochip.examples import brunel_network
from neurochip.mapping import MappingOptions, map_synapses


def brunel_csr(scale: float, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Synapse rows of Brunel's network (neurochip.examples.brunel_network: one delay, so one
    row per neuron)."""
    csr = brunel_network(scale, seed=seed)[0].csr()
    return csr.indptr, csr.indices, csr.n_neurons


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--partitioner", choices=("metis", "block"), default="metis")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    indptr, indices, n = brunel_csr(args.scale, args.seed)
    build_s = time.perf_counter() - t0
    per_core = 1024
    cores = math.ceil(n / per_core)
    side = math.ceil(math.sqrt(cores))
    chip = load_chip("generic").with_mesh(side, side)
    chip = dataclasses.replace(chip, core=CoreSpec(neurons=per_core, fan_in=per_core * 1250, fan_out=per_core * side * side))
    rates = np.full(n, 38.0)  # the Brunel AI state fires at about 38 Hz
    m = map_synapses(indptr, indices, chip, rates_hz=rates, options=MappingOptions(partitioner=args.partitioner))
    out = {
        "n_neurons": n,
        "n_synapses": int(indices.size),
        "csr_build_s": build_s,
        "map_wall_s": m.wall_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "report": m.report(),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    r = out["report"]
    print(f"network: {n} neurons, {indices.size / 1e6:.1f} M synapses (built in {build_s:.2f} s)")
    print(f"chip: {chip.name} {side}x{side}, {per_core} neurons/core; partitioner {args.partitioner}")
    print(f"mapping wall time: {m.wall_s:.2f} s")
    print(f"cores used: {r['cores_used']}; synapses crossing cores: {r['fraction_synapses_crossing_cores']:.3f}")
    print(f"mean hops {r['mean_hops']:.2f}, max {r['max_hops']}; max link load {r['link_load_max']:.3g} packets/s")
    print(f"peak memory: {out['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
