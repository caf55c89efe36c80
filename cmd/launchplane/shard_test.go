package main

import (
	"fmt"
	"testing"
)

// Every key lands in exactly one shard, in 1..n, the same on every call;
// the split is fixed by the key alone (a changed hash would move targets
// between the runners of users' matrices, so its values are pinned).
func TestShardOf(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 32} {
		counts := make([]int, n+1)
		for i := 0; i < 1000; i++ {
			key := fmt.Sprintf("p%d/prod", i)
			s := shardOf(key, n)
			if s < 1 || s > n {
				t.Fatalf("shardOf(%q, %d) = %d, want 1..%d", key, n, s, n)
			}
			if again := shardOf(key, n); again != s {
				t.Fatalf("shardOf(%q, %d) not stable: %d then %d", key, n, s, again)
			}
			counts[s]++
		}
		for s := 1; s <= n; s++ {
			if counts[s] < 1000/n/2 {
				t.Errorf("n=%d: shard %d holds %d of 1000 keys: the hash does not spread", n, s, counts[s])
			}
		}
	}
	pinned := map[string]int{"shop/prod": shardOf("shop/prod", 4), "shop/testing": shardOf("shop/testing", 4)}
	for k, want := range map[string]int{"shop/prod": 4, "shop/testing": 3} {
		if pinned[k] != want {
			t.Errorf("shardOf(%q, 4) = %d, want %d (the split must not change between releases)", k, pinned[k], want)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, s := range []string{"0/3", "4/3", "1/0", "a/b", "1", "1/3/4", "-1/2", "/"} {
		if _, _, err := parseShard(s); err == nil {
			t.Errorf("parseShard(%q): no error", s)
		}
	}
	if i, n, err := parseShard("2/3"); err != nil || i != 2 || n != 3 {
		t.Errorf("parseShard(2/3) = %d, %d, %v", i, n, err)
	}
}
