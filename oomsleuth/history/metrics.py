"""Canonical metric names of history samples. Units are in the name; rates are per second.

Host-wide (``Sample.entity`` is None):

- ``mem_total_kb``, ``mem_free_kb``, ``mem_available_kb``, ``mem_used_kb``, ``buffers_kb``,
  ``cached_kb`` (page cache), ``commit_kb``, ``commit_pct`` (%commit), ``active_kb``,
  ``inactive_kb``, ``dirty_kb``, ``anon_kb`` (AnonPages), ``slab_kb``, ``shmem_kb``,
  ``hugepages_used_kb``
- ``swap_total_kb``, ``swap_free_kb``, ``swap_used_kb``, ``swap_cached_kb``
- ``pswpin_s``, ``pswpout_s`` (pages swapped in/out per second)
- ``pgpgin_kb_s``, ``pgpgout_kb_s``, ``fault_s``, ``majflt_s``, ``pgfree_s``,
  ``pgscank_s`` (kswapd scans), ``pgscand_s`` (direct reclaim scans), ``pgsteal_s``,
  ``vmeff_pct``
- ``psi_mem_some_avg10``, ``psi_mem_some_avg60``, ``psi_mem_some_avg300``,
  ``psi_mem_full_avg10``, ``psi_mem_full_avg60``, ``psi_mem_full_avg300`` (percent),
  ``psi_mem_some_total_us``, ``psi_mem_full_total_us`` (cumulative microseconds)
- ``load_1``, ``runq_sz``, ``blocked``
- atop's own: ``pgscan_s`` (all page scans: atop does not split kswapd from direct reclaim),
  ``allocstall_s`` (direct-reclaim stalls: the direct-reclaim signal in atop data),
  ``psi_mem_some_interval_pct``, ``psi_mem_full_interval_pct`` (stall time as a share of the
  sample interval), ``oom_kill_count`` (kernel OOM kills in the interval)

Per process (``entity="pid:N"``, labels ``comm`` and, when known, ``cmdline``, ``cgroup``):

- ``proc_rss_kb``, ``proc_vsz_kb``, ``proc_swap_kb``, ``proc_minflt_s``, ``proc_majflt_s``,
  ``proc_mem_pct``, ``proc_anon_kb`` (anonymous resident memory: RssAnon)

Per cgroup (``entity="cgroup:/path"``) and per container (``entity="container:ID"``, labels
``pod``, ``namespace``, ``container``, ``image`` when known):

- ``cg_mem_current_kb``, ``cg_mem_max_kb``, ``cg_mem_high_kb``, ``cg_swap_current_kb``,
  ``cg_anon_kb``, ``cg_file_kb``, ``cg_shmem_kb``
- ``cg_psi_some_avg10``, ``cg_psi_full_avg10`` (percent); ``cg_oom_kill_count`` (the cgroup's
  cumulative OOM kills, from v1 ``memory.oom_control`` or v2 ``memory.events``),
  ``cg_oom_count`` (the same for v2 ``memory.events`` ``oom``: times the OOM killer was invoked)
- ``container_working_set_kb``, ``container_rss_kb``, ``container_cache_kb``,
  ``container_limit_kb``

A source may use any other name for what none of these says; correlation ignores unknown names.
"""

from __future__ import annotations

HOST = frozenset(
    [
        "mem_total_kb",
        "mem_free_kb",
        "mem_available_kb",
        "mem_used_kb",
        "buffers_kb",
        "cached_kb",
        "commit_kb",
        "commit_pct",
        "active_kb",
        "inactive_kb",
        "dirty_kb",
        "anon_kb",
        "slab_kb",
        "shmem_kb",
        "hugepages_used_kb",
        "swap_total_kb",
        "swap_free_kb",
        "swap_used_kb",
        "swap_cached_kb",
        "pswpin_s",
        "pswpout_s",
        "pgpgin_kb_s",
        "pgpgout_kb_s",
        "fault_s",
        "majflt_s",
        "pgfree_s",
        "pgscank_s",
        "pgscand_s",
        "pgsteal_s",
        "vmeff_pct",
        "psi_mem_some_avg10",
        "psi_mem_some_avg60",
        "psi_mem_some_avg300",
        "psi_mem_full_avg10",
        "psi_mem_full_avg60",
        "psi_mem_full_avg300",
        "psi_mem_some_total_us",
        "psi_mem_full_total_us",
        "load_1",
        "runq_sz",
        "blocked",
        "pgscan_s",
        "allocstall_s",
        "psi_mem_some_interval_pct",
        "psi_mem_full_interval_pct",
        "oom_kill_count",
    ]
)
PROCESS = frozenset(
    [
        "proc_rss_kb",
        "proc_vsz_kb",
        "proc_swap_kb",
        "proc_minflt_s",
        "proc_majflt_s",
        "proc_mem_pct",
        "proc_anon_kb",
    ]
)
CGROUP = frozenset(
    [
        "cg_mem_current_kb",
        "cg_mem_max_kb",
        "cg_mem_high_kb",
        "cg_swap_current_kb",
        "cg_anon_kb",
        "cg_file_kb",
        "cg_shmem_kb",
        "cg_psi_some_avg10",
        "cg_psi_full_avg10",
        "cg_oom_kill_count",
        "cg_oom_count",
        "container_working_set_kb",
        "container_rss_kb",
        "container_cache_kb",
        "container_limit_kb",
    ]
)
ALL = HOST | PROCESS | CGROUP
