package providers

import (
	"context"
	"testing"
)

// FindMarked picks what UpsertMarked would update: the first own comment
// holding the marker outside quotes and code, on whatever page; another
// author's comment with the marker, the marker in code or quoted by the
// token's own identity are passed over and counted; nothing is written.
func TestFindMarked(t *testing.T) {
	const m = "<!-- lp -->"
	ctx := context.Background()
	t.Run("own comment on page 3, forgeries before it", func(t *testing.T) {
		th := &thread{pages: [][]Marked{
			{{ID: 1, Body: m + "\nforged", Own: false}, {ID: 2, Body: "```\n" + m + "\n```", Own: true}},
			{{ID: 3, Body: "> " + m + "\nquoted", Own: true}, {ID: 4, Body: "chat"}},
			{{ID: 5, Body: m + "\nthe plan", Own: true}, {ID: 6, Body: m + "\nlater", Own: true}},
			{{ID: 7, Body: m + "\nnever read", Own: true}},
		}}
		c, found, ignored, err := FindMarked(ctx, th, m)
		if err != nil || !found || c.ID != 5 || ignored != 3 || len(th.read) != 3 {
			t.Fatalf("got %+v found %v ignored %d err %v read %v", c, found, ignored, err, th.read)
		}
		if len(th.updated)+len(th.created) != 0 {
			t.Fatalf("FindMarked wrote: %v %v", th.updated, th.created)
		}
	})
	t.Run("only another author's marker: not found", func(t *testing.T) {
		th := &thread{pages: [][]Marked{{{ID: 1, Body: m + "\n<!-- launchplane:plan-hash sha256:ff -->", Own: false}}}}
		_, found, ignored, err := FindMarked(ctx, th, m)
		if err != nil || found || ignored != 1 {
			t.Fatalf("found %v ignored %d err %v", found, ignored, err)
		}
	})
	t.Run("a page error is returned", func(t *testing.T) {
		th := &thread{}
		if _, _, _, err := FindMarked(ctx, th, m); err == nil {
			t.Fatal("no error")
		}
	})
}
