"""The text tables of ``benchmarks/sanafe_compare.py``, from the dict its ``--json`` prints.

:func:`print_comparison` is the event-driven comparison (energies by SANA-FE's categories, counts,
wall times, identical spikes); :func:`print_stepped` the ``--stepped`` one (spikes, energy and time
per step, one row per input rate).
"""

from __future__ import annotations

from typing import Any


def print_comparison(out: dict[str, Any]) -> None:
    nc, sf = out["neurochip"], out["sanafe"]
    print(
        f"network: {nc['n_neurons']} neurons ({out['neurochip']['input_spikes']} input spikes), "
        f"{nc['n_synapses']} synapses; {out['timesteps']} steps of {out['dt_s'] * 1e3:.4f} ms; {out['chip']}"
    )
    if isinstance(sf, str):
        print(f"SANA-FE did not run: {sf}")
        print(f"neurochip: {nc['lif_spikes']} spikes, dynamic {nc['energy_joule']['dynamic']:.4e} J, wall {nc['sim_wall_s']:.4f} s")
        return
    ne, se = nc["energy_joule"], sf["energy_joule"]
    print(f"{'':28s}{'neurochip':>14s}{'SANA-FE ' + sf['version']:>16s}")
    for key in ("synapse", "dendrite", "soma", "network"):
        print(f"{'energy ' + key + ' (J)':28s}{ne[key]:14.4e}{se[key]:16.4e}")
    print(f"{'energy dynamic total (J)':28s}{ne['dynamic']:14.4e}{se['total']:16.4e}")
    print(f"{'energy static (J)':28s}{ne['static']:14.4e}{'(not modelled)':>16s}")
    print(f"{'energy total (J)':28s}{ne['total']:14.4e}{se['total']:16.4e}")
    print(f"{'spikes E+I':28s}{nc['lif_spikes']:14d}{sf['lif_spikes']:16d}")
    print(f"{'spikes incl. input':28s}{nc['counts']['spikes_all']:14d}{sf['counts']['neurons_fired']:16d}")
    print(f"{'synaptic events':28s}{nc['counts']['synaptic_events']:14.0f}{sf['counts']['spikes_processed']:16d}")
    print(f"{'neuron updates':28s}{nc['counts']['neuron_updates']:14.0f}{sf['counts']['neurons_updated']:16d}")
    print(f"{'packets':28s}{nc['counts']['packets']:14.0f}{sf['counts']['packets_sent']:16d}")
    print(f"{'simulation wall (s)':28s}{nc['sim_wall_s']:14.4f}{sf['sim_wall_s']:16.4f}")
    print(f"{'build/map + load wall (s)':28s}{nc['build_and_map_s']:14.4f}{sf['build_s'] + sf['load_s']:16.4f}")
    print(
        f"spikes identical (neuron, step): {out['spikes_identical']}; only neurochip: {out['spikes_only_neurochip']}; "
        f"only SANA-FE: {out['spikes_only_sanafe']}; first differing step: {out['first_differing_step']}"
    )
    d, ops = out["derived"], nc["by_operation_joule"]
    print("where the categories differ (SANA-FE split by the energies put into it):")
    print(
        f"  hops: neurochip {ops['hops_ew'] + ops['hops_ns']:.4e} J, SANA-FE {d['sanafe_hop_joule']:.4e} J; "
        f"packet delivery: neurochip (own-core packets only) {ops['core_packets']:.4e} J, "
        f"SANA-FE (every packet) {d['sanafe_packet_joule']:.4e} J"
    )
    print(
        f"  neuron updates: neurochip {nc['counts']['neuron_updates']:.0f} (one per synaptic event) = "
        f"{ops['neuron_updates']:.4e} J; SANA-FE {d['sanafe_lif_updates_charged']:.0f} (one per neuron and step "
        f"with input or V != 0) = {d['sanafe_lif_update_joule']:.4e} J"
    )


def print_stepped(out: dict[str, Any]) -> None:
    print(f"time-stepped engine vs SANA-FE ({out['timing_model']} timing), {out['timesteps']} steps; {out['chip']}")
    head = f"{'rate':>6s} {'spikes nc/sf (same)':>22s} {'E/step nc':>11s} {'E/step sf':>11s} {'ratio':>6s} " \
           f"{'T/step nc':>11s} {'T/step sf':>11s} {'ratio':>6s} {'worst':>6s} {'wall nc':>9s} {'wall sf':>8s} " \
           f"{'sf/nc':>6s} {'cpu sf/nc':>9s} {'wall np':>8s}"
    print(head)
    for r in out["runs"]:
        nc, sf = r["neurochip"], r["sanafe"]
        if isinstance(sf, str):
            print(f"{r['input_rate_hz']:6.1f} SANA-FE did not run: {sf}; neurochip {nc['lif_spikes']} spikes, "
                  f"{nc['dynamic_energy_per_step_joule']:.4e} J/step, {nc['time_per_step_mean_s']:.4e} s/step")
            continue
        print(f"{r['input_rate_hz']:6.1f} {nc['lif_spikes']:>7d}/{sf['lif_spikes']:<7d}({r['spikes_identical']:>5d}) "
              f"{nc['dynamic_energy_per_step_joule']:11.4e} {r['sanafe_dynamic_energy_per_step_joule']:11.4e} "
              f"{r['energy_per_step_ratio']:6.3f} {nc['time_per_step_mean_s']:11.4e} {r['sanafe_time_per_step_mean_s']:11.4e} "
              f"{r['time_per_step_ratio']:6.3f} {r['time_per_step_worst_relative_difference']:6.3f} "
              f"{nc['sim_wall_s']:9.5f} {sf['sim_wall_s']:8.4f} {r['wall_ratio_sanafe_over_neurochip']:6.1f} "
              f"{r['cpu_ratio_sanafe_over_neurochip']:9.1f} "
              f"{nc['numpy_reference_wall_s'] or float('nan'):8.4f}")
    print(f"wall: fastest of {out['repeat']} runs of neurochip's step loop and of SANA-FE's sim() (sf/nc: how many "
          "times faster neurochip is); cpu: the same runs' CPU time; wall np: the NumPy reference loop")
    for r in out["runs"]:
        ab = r["neurochip"].get("ab")
        if ab:
            print(f"{r['input_rate_hz']:6.1f} Hz, installed loop vs {ab['module']} (alternating, fastest of "
                  f"{out['repeat']}): CPU {ab['installed_cpu_s'] * 1e3:.3f} ms vs {ab['other_cpu_s'] * 1e3:.3f} ms "
                  f"({ab['cpu_ratio_other_over_installed']:.2f}x), wall {ab['installed_wall_s'] * 1e3:.3f} vs "
                  f"{ab['other_wall_s'] * 1e3:.3f} ms, identical: {ab['identical']}")
