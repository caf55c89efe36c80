package providers

import (
	"context"
	"errors"
	"testing"
)

// thread is a Thread in memory: pages of comments, and what was written.
type thread struct {
	pages   [][]Marked
	read    []int64
	updated map[int64]string
	created []string
}

func (t *thread) Page(_ context.Context, page int64) ([]Marked, int64, error) {
	t.read = append(t.read, page)
	if int(page) > len(t.pages) {
		return nil, 0, errors.New("no such page")
	}
	next := page + 1
	if int(page) == len(t.pages) {
		next = 0
	}
	return t.pages[page-1], next, nil
}

func (t *thread) Update(_ context.Context, id int64, body string) error {
	if t.updated == nil {
		t.updated = map[int64]string{}
	}
	t.updated[id] = body
	return nil
}

func (t *thread) Create(_ context.Context, body string) error {
	t.created = append(t.created, body)
	return nil
}

func TestUpsertMarked(t *testing.T) {
	const m = "<!-- lp -->"
	body := MarkBody("plan", m)
	if body != m+"\nplan" || MarkBody(body, m) != body {
		t.Fatalf("MarkBody: %q", body)
	}
	t.Run("own comment on a later page is updated, later ones left", func(t *testing.T) {
		th := &thread{pages: [][]Marked{
			{{ID: 1, Body: m + "\nforged", Own: false}, {ID: 2, Body: "```\n" + m + "\n```", Own: true}},
			{{ID: 3, Body: m + "\nold", Own: true}},
			{{ID: 4, Body: m + "\nolder", Own: true}},
		}}
		if err := UpsertMarked(context.Background(), th, m, body); err != nil {
			t.Fatal(err)
		}
		if len(th.updated) != 1 || th.updated[3] != body || len(th.created) != 0 || len(th.read) != 2 {
			t.Fatalf("updated %v, created %v, read %v", th.updated, th.created, th.read)
		}
	})
	t.Run("same body writes nothing", func(t *testing.T) {
		th := &thread{pages: [][]Marked{{{ID: 3, Body: body, Own: true}}}}
		if err := UpsertMarked(context.Background(), th, m, body); err != nil {
			t.Fatal(err)
		}
		if len(th.updated)+len(th.created) != 0 {
			t.Fatalf("updated %v, created %v", th.updated, th.created)
		}
	})
	t.Run("no own marked comment: one is created", func(t *testing.T) {
		th := &thread{pages: [][]Marked{{{ID: 1, Body: m, Own: false}}, {{ID: 2, Body: "> " + m, Own: true}}}}
		if err := UpsertMarked(context.Background(), th, m, body); err != nil {
			t.Fatal(err)
		}
		if len(th.updated) != 0 || len(th.created) != 1 || th.created[0] != body {
			t.Fatalf("updated %v, created %v", th.updated, th.created)
		}
	})
}
