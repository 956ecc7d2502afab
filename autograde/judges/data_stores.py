"""Property judges for module 11 (data stores), for visible tests: they reveal no solution."""

from __future__ import annotations


def judge_bloom_skips(max_reads_per_lookup: float):
    """A store whose runs have Bloom filters reads few runs for keys it never stored."""

    def judge(out) -> str | None:
        if out["runs"] < 2:
            return f"only {out['runs']} run(s) after the load: flush at memtable_limit"
        if out["reads_at_start"] != 0:
            return f"reads() of a new store is {out['reads_at_start']}, not 0"
        if not out["present_found"]:
            return "keys of the oldest run were not found"
        if not 1 <= out["present_reads_per_lookup"] <= 1.5:
            return (f"{out['present_reads_per_lookup']:.2f} runs read per lookup of a key in the oldest run: it needs "
                    "that run read once (1), plus newer runs whose filters answer maybe (rarely)")
        if out["reads_per_lookup"] > max_reads_per_lookup:
            return (f"{out['reads_per_lookup']:.2f} runs read per lookup of an absent key (of {out['runs']} runs); "
                    f"with a Bloom filter per run it should be at most {max_reads_per_lookup}")
        return None

    return judge


def judge_no_throttling(shards: int):
    """Sharded writes are not throttled, and the scatter read queries ``shards`` keys covering every write."""

    def judge(out) -> str | None:
        if out["throttled"]:
            return f"{out['throttled']} writes throttled (busiest partition {out['busiest_partition_wcu']} WCU)"
        if out["read_queries"] != shards:
            return f"the scatter read makes {out['read_queries']} queries, not {shards}"
        if not out["read_covers_writes"]:
            return "the scatter read misses keys that writes of order-0 used"
        if out["distinct_hot_keys"] != shards:
            return f"writes of order-0 used {out['distinct_hot_keys']} keys, not all {shards} shards"
        return None

    return judge
