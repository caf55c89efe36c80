package planner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/state"
	"github.com/launchplane/launchplane/state/gitstore"
)

// targetJSON is the state file of one target, shaped like what apply
// writes (an app and a route).
func targetJSON(t testing.TB, key string) []byte {
	t.Helper()
	product, lane, _ := strings.Cut(key, "/")
	name := product + "-" + lane
	image := "registry.example.org/fleet/" + product + "@sha256:" + strings.Repeat("a", 64)
	ts := &state.TargetState{
		FormatVersion: state.FormatVersion, Target: key, Status: state.StatusHealthy,
		Image: image, HealthyImage: image,
		Resources: []state.Resource{
			{Address: key + "/app", Kind: plan.KindApp, Provider: "local", IdempotencyKey: strings.Repeat("c", 64),
				Attrs: map[string]any{"env": map[string]any{"LOG_LEVEL": "info"}, "image": image, "name": name, "port": float64(8080), "secrets": map[string]any{}}},
			{Address: key + "/route/" + name + ".example.org", Kind: plan.KindRoute, Provider: "local", IdempotencyKey: strings.Repeat("e", 64),
				Attrs: map[string]any{"domain": name + ".example.org", "port": float64(8080), "upstream": name}},
		},
		ProviderIDs: map[string]string{key + "/app": "app-1234"},
		LastRecord:  "deployment-20261203T132040Z-" + name + "-daa7c7",
		Sequence:    1,
		UpdatedAt:   time.Date(2026, 12, 3, 13, 20, 40, 618564595, time.UTC),
		ConfigFile:  "targets/" + name + ".yaml",
	}
	b, err := state.EncodeTarget(ts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fleetState is a local state repository of n targets (n/2 products x
// testing, prod), written as one commit: one pack file.
func fleetState(t testing.TB, dir string, n int) (keys []string) {
	t.Helper()
	s, err := gitstore.Open(context.Background(), dir, gitstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var changes []state.Change
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("app%05d/%s", i/2, []string{"prod", "testing"}[i%2])
		keys = append(keys, key)
		changes = append(changes, state.Change{Path: state.TargetPath(key), Data: targetJSON(t, key)})
	}
	if _, err := s.Commit(context.Background(), state.Write{Changes: changes, Message: "fleet"}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func commitFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	s, err := gitstore.Open(context.Background(), dir, gitstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sn, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var changes []state.Change
	for p, b := range files {
		changes = append(changes, state.Change{Path: p, Data: b})
	}
	if _, err := s.Commit(context.Background(), state.Write{Base: sn.Commit(), Changes: changes, Message: "edit"}); err != nil {
		t.Fatal(err)
	}
}

func openSnap(t testing.TB, dir string) state.Snapshot {
	t.Helper()
	s, err := gitstore.Open(context.Background(), dir, gitstore.Options{NoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sn, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

// blobOf is the blob id of path at the tip (git rev-parse).
func blobOf(t testing.TB, dir, path string) string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", dir, "rev-parse", "main:"+path).Output()
	if err != nil {
		t.Skipf("git: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// packOffset is where object id sits in the repository's only pack, and
// its packed size.
func packOffset(t testing.TB, dir, id string) (pack string, off, size int64) {
	t.Helper()
	idx, _ := filepath.Glob(filepath.Join(dir, "objects/pack/*.idx"))
	if len(idx) != 1 {
		t.Fatalf("want one pack, have %v", idx)
	}
	out, err := exec.Command("git", "verify-pack", "-v", idx[0]).Output()
	if err != nil {
		t.Skipf("git verify-pack: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && f[0] == id {
			size, _ = strconv.ParseInt(f[3], 10, 64)
			off, _ = strconv.ParseInt(f[4], 10, 64)
			return strings.TrimSuffix(idx[0], ".idx") + ".pack", off, size
		}
	}
	t.Fatalf("%s not in the pack", id)
	return
}

// A state repository that cannot be read fails Recorded with an error
// naming the file (or the object), never a partial result.
func TestRecordedRefusesBrokenState(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	const n = 600
	victim := "app00123/testing"
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   []string
	}{
		{"truncated pack", func(t *testing.T, dir string) {
			// git's own pack (commits first, blobs last, deltas).
			if out, err := exec.Command("git", "--git-dir", dir, "repack", "-a", "-d", "-q").CombinedOutput(); err != nil {
				t.Fatalf("git repack: %v\n%s", err, out)
			}
			pack, off, _ := packOffset(t, dir, blobOf(t, dir, state.TargetPath(victim)))
			if err := os.Truncate(pack, off+5); err != nil {
				t.Fatal(err)
			}
		}, []string{"state file targets/"}},
		{"corrupt packed blob", func(t *testing.T, dir string) {
			pack, off, size := packOffset(t, dir, blobOf(t, dir, state.TargetPath(victim)))
			f, err := os.OpenFile(pack, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b := make([]byte, 1)
			at := off + size/2
			f.ReadAt(b, at)
			b[0] ^= 0x55
			if _, err := f.WriteAt(b, at); err != nil {
				t.Fatal(err)
			}
		}, []string{"state file " + state.TargetPath(victim)}},
		{"corrupt loose blob", func(t *testing.T, dir string) {
			commitFiles(t, dir, map[string][]byte{state.TargetPath(victim): append(targetJSON(t, victim), ' ')})
			id := blobOf(t, dir, state.TargetPath(victim))
			p := filepath.Join(dir, "objects", id[:2], id[2:])
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, 0o644)
			b[len(b)/2] ^= 0x55
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"state file " + state.TargetPath(victim)}},
		{"missing object", func(t *testing.T, dir string) {
			commitFiles(t, dir, map[string][]byte{state.TargetPath(victim): append(targetJSON(t, victim), ' ')})
			id := blobOf(t, dir, state.TargetPath(victim))
			if err := os.Remove(filepath.Join(dir, "objects", id[:2], id[2:])); err != nil {
				t.Fatal(err)
			}
		}, []string{"state file " + state.TargetPath(victim), "object not found"}},
		{"not JSON", func(t *testing.T, dir string) {
			commitFiles(t, dir, map[string][]byte{state.TargetPath(victim): []byte(`{"format_version": "1", "target": `)})
		}, []string{"state " + state.TargetPath(victim) + ": unexpected EOF"}},
		{"unknown field", func(t *testing.T, dir string) {
			b := targetJSON(t, victim)
			b = bytes.Replace(b, []byte(`"status"`), []byte(`"bogus": 1, "status"`), 1)
			commitFiles(t, dir, map[string][]byte{state.TargetPath(victim): b})
		}, []string{"state " + state.TargetPath(victim) + `: json: unknown field "bogus"`}},
		{"wrong format_version", func(t *testing.T, dir string) {
			b := bytes.Replace(targetJSON(t, victim), []byte(`"format_version": "1"`), []byte(`"format_version": "2"`), 1)
			commitFiles(t, dir, map[string][]byte{state.TargetPath(victim): b})
		}, []string{"state " + state.TargetPath(victim) + `: format_version: unsupported format_version "2"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			fleetState(t, dir, n)
			c.break_(t, dir)
			sn := openSnap(t, dir)
			for _, only := range []map[string]bool{nil, {victim: true}} {
				rec, states, err := Recorded(sn, only)
				if err == nil {
					t.Fatalf("only %v: no error; read %d targets", only, len(states))
				}
				for _, w := range c.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("only %v: error %q does not say %q", only, err, w)
					}
				}
				if states != nil {
					t.Errorf("only %v: a partial result of %d targets beside the error", only, len(states))
				}
				_ = rec
				t.Logf("only %v: %v", only, err)
			}
		})
	}
}

// Recorded of an intact fleet reads every target, equal to reading them
// one by one.
func TestRecordedReadsEveryTarget(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	keys := fleetState(t, dir, 600)
	sn := openSnap(t, dir)
	rec, states, err := Recorded(sn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != len(keys) || len(rec.Targets) != len(keys) {
		t.Fatalf("read %d states, %d recorded, want %d", len(states), len(rec.Targets), len(keys))
	}
	for _, k := range keys {
		ts, err := state.ReadTarget(sn, k)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ts, states[k]) {
			t.Fatalf("%s: Recorded read %+v, ReadTarget %+v", k, states[k], ts)
		}
		res, err := resourcesOf(k, ts)
		if err != nil || !reflect.DeepEqual(res, rec.Targets[k]) {
			t.Fatalf("%s: resources %v %v", k, res, err)
		}
	}
}

// With several broken files the error is the first in the order of the
// tree (products, then lanes), as a reading one by one meets it, however
// the parallel reads are scheduled.
func TestRecordedReportsFirstError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	fleetState(t, dir, 600)
	broken := map[string][]byte{}
	for _, k := range []string{"app00291/testing", "app00007/testing", "app00007/prod", "app00150/prod"} {
		broken[state.TargetPath(k)] = []byte(`{"format_version": "1", "target": ` + k)
	}
	commitFiles(t, dir, broken)
	sn := openSnap(t, dir)
	for i := 0; i < 20; i++ {
		_, states, err := Recorded(sn, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "state targets/app00007/prod.json: ") || states != nil {
			t.Fatalf("got %v (%d states)", err, len(states))
		}
		_, _, err = Recorded(sn, map[string]bool{"app00291/testing": true, "app00150/prod": true, "app00001/prod": true})
		if err == nil || !strings.HasPrefix(err.Error(), "state targets/app00150/prod.json: ") {
			t.Fatalf("only: got %v", err)
		}
	}
}

// Prefetch reads ahead what Recorded then returns without reading: the
// same targets, maps of each caller's own, the same error; other keys
// read through.
func TestPrefetch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	keys := fleetState(t, dir, 40)
	sn := openSnap(t, dir)
	wantRec, wantStates, err := Recorded(sn, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := Prefetch(sn, nil)
	if p.Commit() != sn.Commit() {
		t.Fatal("another commit")
	}
	rec, states, err := Recorded(p, nil)
	if err != nil || !reflect.DeepEqual(rec, wantRec) || !reflect.DeepEqual(states, wantStates) {
		t.Fatalf("prefetched %d, %v", len(states), err)
	}
	delete(states, keys[0])
	delete(rec.Targets, keys[0])
	if _, again, _ := Recorded(p, nil); len(again) != len(keys) {
		t.Fatal("a caller's map is shared")
	}
	if _, one, err := Recorded(p, map[string]bool{keys[3]: true}); err != nil || len(one) != 1 || one[keys[3]] == nil {
		t.Fatalf("other keys: %v %v", one, err)
	}
	commitFiles(t, dir, map[string][]byte{state.TargetPath(keys[5]): []byte("{")})
	broken := Prefetch(openSnap(t, dir), nil)
	if _, states, err := Recorded(broken, nil); err == nil || states != nil || !strings.Contains(err.Error(), state.TargetPath(keys[5])) {
		t.Fatalf("broken: %v %d", err, len(states))
	}
	if _, one, err := Recorded(broken, map[string]bool{keys[3]: true}); err != nil || len(one) != 1 {
		t.Fatalf("broken, other key: %v", err)
	}
}

// BenchmarkRecorded reads the recorded targets of a fleet of 3,000 (one
// pack, as apply writes it). With -cpu 1 the time is the CPU cost; with
// -cpu 2 the wall time on two cores.
func BenchmarkRecorded(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "state")
	fleetState(b, dir, 3000)
	sn := openSnap(b, dir)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, states, err := Recorded(sn, nil); err != nil || len(states) != 3000 {
			b.Fatal(len(states), err)
		}
	}
}
