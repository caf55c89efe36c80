package gitstore

import (
	"github.com/go-git/go-git/v5"
)

// Checkout is what a command needs to know of the git work tree a
// directory is in (the config repository's checkout): "" when unknown.
type Checkout struct {
	Root   string // the work tree's root directory
	Head   string // the commit checked out
	Ref    string // the ref HEAD names: refs/heads/main
	Origin string // the first URL of the remote origin
}

// CheckoutOf reads the git work tree dir is in (dir or a parent holding
// .git); the zero Checkout when dir is in none.
func CheckoutOf(dir string) Checkout {
	var c Checkout
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return c
	}
	if wt, err := r.Worktree(); err == nil {
		c.Root = wt.Filesystem.Root()
	}
	if head, err := r.Head(); err == nil {
		c.Ref, c.Head = head.Name().String(), head.Hash().String()
	}
	if rem, err := r.Remote("origin"); err == nil && len(rem.Config().URLs) > 0 {
		c.Origin = rem.Config().URLs[0]
	}
	return c
}
