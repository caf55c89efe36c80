package main

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/planner"
	"github.com/launchplane/launchplane/state"
)

// parseShard reads --shard I/N (1 <= I <= N); "" is no sharding (1/1).
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 1, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard %q: want I/N with 1 <= I <= N, such as 2/4", s)
	}
	return i, n, nil
}

// shardOf is the 1-based shard of a target key among n: FNV-1a 64 of the
// key, mod n. It depends on the key alone, so every runner of a matrix
// computes the same split, whatever the order or number of targets.
func shardOf(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64()%uint64(n)) + 1
}

// knownTargets are the target keys in the config or in the state
// repository (a target removed from the config is deleted by its shard).
func knownTargets(cfg *config.Config, snap state.Snapshot) ([]string, error) {
	_, states, err := planner.Recorded(snap, nil)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range cfg.Targets {
		seen[t.Key()] = true
	}
	for k := range states {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}
