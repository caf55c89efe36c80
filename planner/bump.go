package planner

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/launchplane/launchplane/config"
)

// Bump is an edit of a Target file that moves the target to an image,
// for a pull request (launchplane serve-request's publish).
type Bump struct {
	Target   string // key
	File     string // relative to the config dir
	Previous string // the image the file named
	Image    string
	Old, New []byte // the file before and after; equal when nothing changes
}

// BumpTarget rewrites, in memory, the image of product's lane Target to
// image and, when the file records one, its source commit to commit;
// nothing else in the file changes (comments, layout, other documents).
func BumpTarget(cfg *config.Config, product, lane, image, commit string) (*Bump, error) {
	t := cfg.Target(product, lane)
	if t == nil {
		return nil, fmt.Errorf("no %s/%s target in the config", product, lane)
	}
	pos := t.Source.Pos("/spec/image")
	b := &Bump{Target: t.Key(), File: pos.File, Previous: t.Spec.Image, Image: image}
	var err error
	if b.Old, err = os.ReadFile(filepath.Join(cfg.Dir, filepath.FromSlash(pos.File))); err != nil {
		return nil, err
	}
	type edit struct {
		ptr, old, repl string
	}
	edits := []edit{{"/spec/image", t.Spec.Image, image}}
	if commit != "" && t.Spec.Source != nil && t.Spec.Source.Commit != "" {
		edits = append(edits, edit{"/spec/source/commit", t.Spec.Source.Commit, commit})
	}
	// Later positions first, so earlier ones stay where they were.
	if len(edits) == 2 {
		a, c := t.Source.Pos(edits[0].ptr), t.Source.Pos(edits[1].ptr)
		if a.Line < c.Line || (a.Line == c.Line && a.Col < c.Col) {
			edits[0], edits[1] = edits[1], edits[0]
		}
	}
	b.New = b.Old
	for _, e := range edits {
		if e.old == e.repl {
			continue
		}
		p := t.Source.Pos(e.ptr)
		if b.New, err = replaceScalar(b.New, p.Line, p.Col, e.old, e.repl); err != nil {
			return nil, fmt.Errorf("%s:%d:%d: %s: %w", p.File, p.Line, p.Col, e.ptr, err)
		}
	}
	return b, nil
}
