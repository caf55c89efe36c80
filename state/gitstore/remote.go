package gitstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/launchplane/launchplane/redact"
)

// A remote is mirrored in a bare cache repository that holds only what
// reads and writes need, whatever the length of the history:
//
//   - the first fetch asks for depth 1 (the tip commit and its tree);
//   - later fetches ask for fetchDepth commits, which reaches a commit the
//     cache has whenever fewer than fetchDepth commits landed since, so the
//     server sends only the new objects (a depth-1 fetch into a shallow
//     repository makes the server resend the whole tree every time);
//   - a write pushes one ref update, old -> new, with a pack of exactly the
//     objects the commit added (go-git's Remote.Push walks every object
//     reachable from the remote's refs to decide what to send);
//   - a base commit older than the cache (a saved plan made elsewhere) is
//     found by deepening the cache, 64 commits, then 1024, then all.
//
// Processes on one machine share the cache: fetches and pushes take an
// exclusive lock beside it; each open Store holds a shared one, and a Store
// opened while no other is open starts the cache afresh when it has grown
// many packs or shallow boundaries.

var (
	// fetchDepth is the depth of the fetches after the first.
	fetchDepth = 32
	// maxCachePacks and maxCacheShallows make Open start a cache afresh.
	maxCachePacks    = 32
	maxCacheShallows = 64
	// deepenSteps are the depths tried to find an old commit.
	deepenSteps = []int{64, 1024, infiniteDepth}
)

// infiniteDepth is git's "deepen" value for the whole history.
const infiniteDepth = 0x7fffffff

type remote struct {
	ep     *transport.Endpoint
	client transport.Transport
	auth   transport.AuthMethod
	dir    string                 // the cache repository
	track  plumbing.ReferenceName // the remote branch as last seen
	tip    plumbing.Hash          // its value
	users  *os.File               // held shared while the Store is open
}

// safeURL is rawURL without credentials: the form used in messages and
// for the cache's name. An ssh user name is kept (it is not a secret).
func safeURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.User == nil {
		return rawURL
	}
	if strings.Contains(u.Scheme, "ssh") {
		u.User = url.User(u.User.Username())
	} else {
		u.User = nil
	}
	return u.String()
}

// urlSecrets are the credentials in rawURL: a password, and the user name
// of an http(s) URL unless it is a well-known placeholder (a token is
// often passed as the user name).
func urlSecrets(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	if name := u.User.Username(); strings.HasPrefix(u.Scheme, "http") &&
		!slices.Contains([]string{"", "git", "x-access-token", "oauth2", "token", "x-token-auth"}, name) {
		out = append(out, name)
	}
	return out
}

func (s *Store) openRemote(ctx context.Context, rawURL string, opts Options) error {
	s.loc = safeURL(rawURL)
	s.red = redact.New(append(urlSecrets(rawURL), opts.Token)...)
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		return fmt.Errorf("state repository %s: %w", s.loc, err)
	}
	cl, err := client.NewClient(ep)
	if err != nil {
		return fmt.Errorf("state repository %s: %w", s.loc, err)
	}
	r := &remote{ep: ep, client: cl, track: plumbing.NewRemoteReferenceName("origin", s.branch.Short())}
	if (ep.Protocol == "http" || ep.Protocol == "https") && opts.Token != "" {
		r.auth = &githttp.BasicAuth{Username: "x-access-token", Password: opts.Token}
	}
	cache := opts.CacheDir
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("state repository %s: no cache directory: %w", s.loc, err)
		}
		cache = filepath.Join(base, "launchplane", "state")
	}
	sum := sha256.Sum256([]byte(s.loc))
	r.dir = filepath.Join(cache, hex.EncodeToString(sum[:])[:16])
	s.remote = r
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return fmt.Errorf("state repository %s: cache: %w", s.loc, err)
	}
	if r.users, err = os.OpenFile(r.dir+".users", os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return fmt.Errorf("state repository %s: cache: %w", s.loc, err)
	}
	if tryLockExclusive(r.users) {
		// No other Store uses the cache: start afresh if it grew too much.
		if stale(r.dir) {
			if err := os.RemoveAll(r.dir); err != nil {
				return fmt.Errorf("state repository %s: reset cache: %w", s.loc, err)
			}
		}
	}
	if err := lockShared(ctx, r.users); err != nil {
		return fmt.Errorf("state repository %s: cache: %w", s.loc, err)
	}
	if err := s.open(r.dir); err != nil {
		return fmt.Errorf("state repository %s: cache %s: %w", s.loc, r.dir, err)
	}
	if ref, err := s.st.Reference(r.track); err == nil && s.has(ref.Hash()) {
		r.tip = ref.Hash()
	}
	return nil
}

// stale reports whether the cache at dir has too many packs or shallow
// boundaries to be worth keeping.
func stale(dir string) bool {
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if len(packs) > maxCachePacks {
		return true
	}
	b, _ := os.ReadFile(filepath.Join(dir, "shallow"))
	return bytes.Count(b, []byte("\n")) > maxCacheShallows
}

// lockCache takes the cache's exclusive lock, for a fetch or a push.
func (r *remote) lockCache(ctx context.Context) (func(), error) {
	return lockFile(ctx, r.dir+".lock")
}

// setTip records the remote branch's value.
func (s *Store) setTip(h plumbing.Hash) error {
	r := s.remote
	var err error
	if h.IsZero() {
		err = s.st.RemoveReference(r.track)
	} else {
		err = s.st.SetReference(plumbing.NewHashReference(r.track, h))
	}
	if err != nil {
		return fmt.Errorf("state repository %s: cache: %w", s.loc, err)
	}
	r.tip = h
	return nil
}

// fetchTip fetches the remote branch and returns its tip (zero when it
// does not exist). The caller holds the cache lock.
func (s *Store) fetchTip(ctx context.Context) (plumbing.Hash, error) {
	r := s.remote
	sess, err := r.client.NewUploadPackSession(r.ep, r.auth)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch state from %s: %w", s.loc, err)
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, s.setTip(plumbing.ZeroHash)
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch state from %s: %w", s.loc, err)
	}
	want := ar.References[s.branch.String()]
	if want.IsZero() {
		var others []string
		for name := range ar.References {
			if n := plumbing.ReferenceName(name); n.IsBranch() {
				others = append(others, n.Short())
			}
		}
		if len(others) > 0 {
			slices.Sort(others)
			return plumbing.ZeroHash, fmt.Errorf("fetch state from %s: it has no branch %s but has %s: not a fresh state repository; check --state", s.loc, s.branch.Short(), strings.Join(others, ", "))
		}
	}
	if !want.IsZero() && !s.has(want) {
		depth := fetchDepth
		if r.tip.IsZero() {
			depth = 1
		}
		if err := s.fetchPack(ctx, sess, ar, want, depth); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("fetch state from %s: %w", s.loc, err)
		}
		if !s.has(want) {
			return plumbing.ZeroHash, fmt.Errorf("fetch state from %s: commit %s missing after the fetch", s.loc, abbrev(want))
		}
	}
	return want, s.setTip(want)
}

// ensure makes the cache hold commit h, deepening it step by step. The
// caller holds the cache lock.
func (s *Store) ensure(ctx context.Context, h plumbing.Hash) error {
	if s.has(h) {
		return nil
	}
	r := s.remote
	for _, depth := range deepenSteps {
		sess, err := r.client.NewUploadPackSession(r.ep, r.auth)
		if err != nil {
			return fmt.Errorf("fetch state from %s: %w", s.loc, err)
		}
		ar, err := sess.AdvertisedReferencesContext(ctx)
		if errors.Is(err, transport.ErrEmptyRemoteRepository) {
			sess.Close()
			break
		}
		if err != nil {
			sess.Close()
			return fmt.Errorf("fetch state from %s: %w", s.loc, err)
		}
		want := ar.References[s.branch.String()]
		if want.IsZero() {
			sess.Close()
			break
		}
		err = s.fetchPack(ctx, sess, ar, want, depth)
		sess.Close()
		if err != nil {
			return fmt.Errorf("fetch state from %s: %w", s.loc, err)
		}
		if s.has(h) {
			return nil
		}
	}
	return nil // the caller reports the commit missing
}

// fetchPack fetches want with at most depth commits of history into the
// cache and records the new shallow boundaries.
func (s *Store) fetchPack(ctx context.Context, sess transport.UploadPackSession, ar *packp.AdvRefs, want plumbing.Hash, depth int) error {
	req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
	req.Wants = []plumbing.Hash{want}
	if tip := s.remote.tip; !tip.IsZero() && tip != want && s.has(tip) {
		req.Haves = []plumbing.Hash{tip}
	}
	shallows, err := s.st.Shallow()
	if err != nil {
		return err
	}
	if ar.Capabilities.Supports(capability.Shallow) {
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return err
		}
		req.Depth = packp.DepthCommits(depth)
		req.Shallows = shallows
	}
	if ar.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return err
		}
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Close()
	var rd io.Reader = resp
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		rd = sideband.NewDemuxer(sideband.Sideband64k, resp)
	case req.Capabilities.Supports(capability.Sideband):
		rd = sideband.NewDemuxer(sideband.Sideband, resp)
	}
	if err := packfile.UpdateObjectStorage(s.st, rd); err != nil {
		return err
	}
	if len(resp.Shallows) == 0 && len(resp.Unshallows) == 0 {
		return nil
	}
	next := slices.DeleteFunc(slices.Clone(shallows), func(h plumbing.Hash) bool { return slices.Contains(resp.Unshallows, h) })
	for _, h := range resp.Shallows {
		if !slices.Contains(next, h) {
			next = append(next, h)
		}
	}
	return s.st.SetShallow(next)
}

// push updates the remote branch from old (zero: absent) to commit, sending
// objs. It reports false when another writer moved the branch first. The
// caller holds the cache lock.
func (s *Store) push(ctx context.Context, old, commit plumbing.Hash, objs []plumbing.Hash) (bool, error) {
	r := s.remote
	sess, err := r.client.NewReceivePackSession(r.ep, r.auth)
	if err != nil {
		return false, fmt.Errorf("push state to %s: %w", s.loc, err)
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return false, fmt.Errorf("push state to %s: %w", s.loc, err)
	}
	if ar.References[s.branch.String()] != old {
		return false, nil
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{{Name: s.branch, Old: old, New: commit}}
	slices.SortFunc(objs, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
	objs = slices.Compact(objs)
	pr, pw := io.Pipe()
	req.Packfile = pr
	encoded := make(chan error, 1)
	go func() {
		bw := bufio.NewWriter(pw)
		_, err := packfile.NewEncoder(bw, s.st, !ar.Capabilities.Supports(capability.OFSDelta)).Encode(objs, 0)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		encoded <- err
	}()
	rs, err := sess.ReceivePack(ctx, req)
	pr.Close() // unblocks the encoder if the push stopped reading
	if eerr := <-encoded; err == nil && eerr != nil && !errors.Is(eerr, io.ErrClosedPipe) {
		err = eerr
	}
	if err == nil && rs != nil {
		err = rs.Error()
	}
	if err != nil {
		// Did the update land after all, or did another writer win?
		if tip, ferr := s.fetchTip(ctx); ferr == nil {
			if tip == commit {
				return true, nil
			}
			if tip != old {
				return false, nil
			}
		}
		return false, fmt.Errorf("push state to %s: %w", s.loc, err)
	}
	return true, s.setTip(commit)
}
