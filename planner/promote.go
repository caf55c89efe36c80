package planner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/state"
)

// Promotion is an edit of a prod Target file: its image becomes the image
// recorded healthy on the from lane.
type Promotion struct {
	Target   string // key of the target promoted to
	From     string // key of the target promoted from
	File     string // the Target's file, relative to the config dir
	Line     int
	Image    string // the promoted image
	Previous string // the image the file named before
	Record   string // the record that deployed Image on From
}

// Promote rewrites the image of product's to-lane Target file to the image
// recorded healthy on its from-lane, changing nothing else in the file
// (comments, layout, other documents). The change then goes through a
// reviewed pull request like any other.
func Promote(cfg *config.Config, snap state.Snapshot, product, from, to string) (*Promotion, error) {
	t := cfg.Target(product, to)
	if t == nil {
		return nil, fmt.Errorf("no %s/%s target in the config", product, to)
	}
	if t.Spec.Promote != nil && t.Spec.Promote.From != from {
		return nil, fmt.Errorf("%s promotes from %s (spec.promotion.from), not %s", t.Key(), t.Spec.Promote.From, from)
	}
	src, err := state.ReadTarget(snap, product+"/"+from)
	if err != nil {
		return nil, err
	}
	if src == nil || src.HealthyImage == "" {
		return nil, fmt.Errorf("%s/%s has no image recorded healthy: deploy it there first", product, from)
	}
	if src.Image != src.HealthyImage {
		return nil, fmt.Errorf("%s/%s runs %s, which did not pass its health check (status %s); its last healthy image was %s: fix the lane first", product, from, src.Image, src.Status, src.HealthyImage)
	}
	p := &Promotion{Target: t.Key(), From: product + "/" + from, Image: src.HealthyImage, Previous: t.Spec.Image, Record: src.ImageRecord}
	pos := t.Source.Pos("/spec/image")
	p.File, p.Line = pos.File, pos.Line
	if p.Previous == p.Image {
		return p, nil
	}
	path := filepath.Join(cfg.Dir, filepath.FromSlash(pos.File))
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, err := replaceScalar(b, pos.Line, pos.Col, p.Previous, p.Image)
	if err != nil {
		return nil, fmt.Errorf("%s:%d:%d: spec.image: %w", pos.File, pos.Line, pos.Col, err)
	}
	if err := os.WriteFile(path, out, info.Mode().Perm()); err != nil {
		return nil, err
	}
	return p, nil
}

// replaceScalar replaces the scalar old that starts at line:col (1-based,
// col in characters) of a YAML text by repl, keeping its quoting and
// everything around it.
func replaceScalar(b []byte, line, col int, old, repl string) ([]byte, error) {
	lines := strings.SplitAfter(string(b), "\n")
	if line < 1 || line > len(lines) {
		return nil, fmt.Errorf("line %d is not in the file", line)
	}
	l := lines[line-1]
	start := 0
	for i := 1; i < col && start < len(l); i++ {
		_, n := utf8.DecodeRuneInString(l[start:])
		start += n
	}
	rest := l[start:]
	var token string
	switch {
	case strings.HasPrefix(rest, `"`+old+`"`), strings.HasPrefix(rest, `'`+old+`'`):
		token = rest[:len(old)+2]
		repl = rest[:1] + repl + rest[:1]
	case strings.HasPrefix(rest, old):
		token = old
		if after := rest[len(old):]; after != "" && !strings.ContainsAny(after[:1], " \t\r\n,}]#") {
			return nil, fmt.Errorf("the value is not a plain one-line scalar: edit it by hand")
		}
	default:
		return nil, fmt.Errorf("the file does not hold %q at this position (edited since loading?)", old)
	}
	lines[line-1] = l[:start] + repl + rest[len(token):]
	return []byte(strings.Join(lines, "")), nil
}
