// Package request is what a product repository sends the config
// repository (SPEC §1, §10): a Request of facts (product, pull request,
// image digest, source commit, check results) and the tenant job's OIDC
// token, carried as the client_payload of a repository_dispatch of type
// launchplane-request. Everything else (slug, host, object names,
// providers, env) the config repository derives from its config.
//
// The package parses and checks requests and spends their tokens; the
// CLI (launchplane request, launchplane serve-request) runs them.
package request

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/launchplane/launchplane/diag"
	"github.com/launchplane/launchplane/policy"
	"github.com/launchplane/launchplane/schema"
	"github.com/launchplane/launchplane/state"
)

// EventType is the repository_dispatch event type of a request.
const EventType = "launchplane-request"

// Actions a request may ask for.
const (
	ActionPreview = "preview" // deploy or update the pull request's preview
	ActionDestroy = "destroy" // remove the pull request's preview
	ActionPublish = "publish" // move the testing Target to the image (a pull request in the config repository)
)

// PublishLane is the lane a publish moves.
const PublishLane = "testing"

// Request is the client_payload of a launchplane-request (launchplane
// schema request).
type Request struct {
	APIVersion   string            `json:"apiVersion"`
	Kind         string            `json:"kind"`
	Action       string            `json:"action"`
	Product      string            `json:"product"`
	PullRequest  int               `json:"pullRequest,omitempty"`
	Image        string            `json:"image,omitempty"`
	SourceCommit string            `json:"sourceCommit,omitempty"`
	Checks       map[string]string `json:"checks,omitempty"`
	Token        string            `json:"token"`
}

// New is a request with apiVersion and kind set.
func New(action, product string) *Request {
	return &Request{APIVersion: schema.APIVersion, Kind: "Request", Action: action, Product: product}
}

// Key is the target key the request is about: the preview's
// <product>/preview/pr-<N>, or <product>/testing for a publish.
func (r *Request) Key() string {
	if r.Action == ActionPublish {
		return r.Product + "/" + PublishLane
	}
	return state.PreviewKey(r.Product, r.PullRequest)
}

// Policy is what the policy is asked: a preview or its removal is the
// action preview on lane preview; a publish is promote on lane testing.
func (r *Request) Policy() policy.Request {
	if r.Action == ActionPublish {
		return policy.Request{Action: policy.ActionPromote, Product: r.Product, Lane: PublishLane}
	}
	return policy.Request{Action: policy.ActionPreview, Product: r.Product, Lane: policy.LanePreview}
}

// Facts are the request without its token, for records and feedback.
func (r *Request) Facts() *state.RequestFacts {
	return &state.RequestFacts{Action: r.Action, Product: r.Product, PullRequest: max(r.PullRequest, 0), Image: r.Image,
		SourceCommit: r.SourceCommit, Checks: r.Checks}
}

// Parse checks data against the Request schema and decodes it. Unknown
// fields are errors (a request cannot name a host, a provider or env).
func Parse(name string, data []byte) (*Request, diag.Diagnostics) {
	ds := schema.ValidateRequest(name, data)
	if ds.HasErrors() {
		return nil, ds
	}
	var r Request
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		ds.Add(diag.Pos{File: name}, "", "%v", err)
		return nil, ds
	}
	return &r, ds
}

// Event is what serve-request reads of a repository_dispatch event.
type Event struct {
	Payload []byte // client_payload
	// DefaultBranch is the config repository's default branch, "" when
	// the event does not say.
	DefaultBranch string
}

// maxEvent bounds an event file.
const maxEvent = 1 << 20

// ReadEvent reads a repository_dispatch webhook event ($GITHUB_EVENT_PATH)
// and returns its client_payload; an event of another type is an error.
func ReadEvent(path string) (*Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the event: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxEvent+1))
	if err != nil {
		return nil, fmt.Errorf("read the event %s: %w", path, err)
	}
	if len(b) > maxEvent {
		return nil, fmt.Errorf("the event %s is larger than %d bytes", path, maxEvent)
	}
	var ev struct {
		Action        string          `json:"action"`
		ClientPayload json.RawMessage `json:"client_payload"`
		Repository    struct {
			DefaultBranch string `json:"default_branch"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("the event %s is not JSON: %w", path, err)
	}
	if ev.Action != EventType {
		return nil, fmt.Errorf("the event %s is not a %s repository_dispatch (its type is %q)", path, EventType, ev.Action)
	}
	if len(ev.ClientPayload) == 0 || string(ev.ClientPayload) == "null" {
		return nil, fmt.Errorf("the event %s has no client_payload", path)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, ev.ClientPayload, "", "  "); err != nil {
		return nil, fmt.Errorf("the event's client_payload: %w", err)
	}
	return &Event{Payload: pretty.Bytes(), DefaultBranch: ev.Repository.DefaultBranch}, nil
}

var pullRef = regexp.MustCompile(`^refs/pull/([1-9][0-9]*)/(merge|head)$`)

// PullOf is the pull request a token's job ran for (its ref is
// refs/pull/<N>/merge or /head), 0 when none.
func PullOf(id policy.Identity) int {
	m := pullRef.FindStringSubmatch(id.Ref)
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// CheckFacts compares a request with its verified token and the product
// it names: the token's repository must be the product's
// spec.source.repository, a preview's pull request the token's, a push's
// commit the token's. It returns why not, or "".
func CheckFacts(r *Request, id policy.Identity, sourceRepo, productImage string) string {
	switch {
	case sourceRepo == "":
		return fmt.Sprintf("product %s declares no spec.source.repository, so no repository may send requests for it", r.Product)
	case !strings.EqualFold(sourceRepo, id.Repository):
		return fmt.Sprintf("the token is from %s, but product %s's source repository is %s", id.Repository, r.Product, sourceRepo)
	}
	if r.Image != "" {
		if repo, _, _ := strings.Cut(r.Image, "@"); repo != productImage {
			return fmt.Sprintf("image %s is not product %s's image %s", repo, r.Product, productImage)
		}
	}
	m := pullRef.FindStringSubmatch(id.Ref)
	switch r.Action {
	case ActionPreview, ActionDestroy:
		if m == nil {
			return fmt.Sprintf("a %s request must come from a pull request's job; the token's ref is %s", r.Action, id.Ref)
		}
		if m[1] != fmt.Sprint(r.PullRequest) {
			return fmt.Sprintf("the request names pull request %d, but the token is from pull request %s", r.PullRequest, m[1])
		}
	case ActionPublish:
		if r.SourceCommit != "" && id.SHA != "" && r.SourceCommit != id.SHA {
			return fmt.Sprintf("the request names source commit %s, but the token is from commit %s", r.SourceCommit, id.SHA)
		}
	}
	return ""
}

// ErrReplayed is returned by Spend for a token already used.
var ErrReplayed = errors.New("the token was used before: each request's token is good once")

// TokenUse is requests/tokens/<id>.json in the state repository: the
// record that a token was spent. It holds a hash of the token's id, never
// the token.
type TokenUse struct {
	FormatVersion string    `json:"format_version"`
	TokenID       string    `json:"token_id_sha256"`
	Issuer        string    `json:"issuer"`
	Repository    string    `json:"repository"`
	Run           string    `json:"run,omitempty"`
	Action        string    `json:"action"`
	Product       string    `json:"product"`
	Target        string    `json:"target"`
	Expires       time.Time `json:"expires"`
	UsedAt        time.Time `json:"used_at"`
}

// TokenPath is where the use of token id jti of issuer is recorded.
func TokenPath(issuer, jti string) string {
	return "requests/tokens/" + tokenHash(issuer, jti) + ".json"
}

func tokenHash(issuer, jti string) string {
	h := sha256.Sum256([]byte(issuer + "\x00" + jti))
	return hex.EncodeToString(h[:])
}

// Spend records tok as used in the state repository, once: a token whose
// record exists, or that another writer records first (compare-and-swap
// on the path), is ErrReplayed.
func Spend(ctx context.Context, store state.Store, snap state.Snapshot, tok *policy.Token, issuer string, r *Request, now time.Time) error {
	path := TokenPath(issuer, tok.ID)
	if _, err := snap.ReadFile(path); err == nil {
		return ErrReplayed
	} else if !errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	use := TokenUse{FormatVersion: state.FormatVersion, TokenID: tokenHash(issuer, tok.ID), Issuer: issuer,
		Repository: tok.Identity.Repository, Run: tok.Identity.RunID, Action: r.Action, Product: r.Product, Target: r.Key(),
		Expires: tok.Expiry, UsedAt: now.UTC()}
	b, err := json.MarshalIndent(use, "", "  ")
	if err != nil {
		return err
	}
	_, err = store.Commit(ctx, state.Write{
		Base: snap.Commit(), Changes: []state.Change{{Path: path, Data: append(b, '\n')}}, Scopes: []string{path},
		Message:  fmt.Sprintf("launchplane: request %s of %s from %s", r.Action, r.Key(), tok.Identity.Repository),
		Trailers: []state.Trailer{{Key: "Launchplane-Actor", Value: tok.Identity.String()}},
		Author:   state.Signature{Name: "launchplane", Email: "launchplane@localhost", When: now},
	})
	if errors.Is(err, state.ErrConflict) {
		return ErrReplayed
	}
	return err
}

// RecordPublish writes a "publish" record under the testing target's
// records: who asked, the policy decision (with its policy blob) and the
// pull request that carries the bump, or why it failed. It changes no
// target, so it conflicts with no other writer.
func RecordPublish(ctx context.Context, store state.Store, snap state.Snapshot, r *Request, actor string, now time.Time, outcome state.RecordOutcome, reason string, evidence *state.PolicyEvidence) (string, error) {
	key := r.Key()
	rec := &state.Record{FormatVersion: state.FormatVersion, ID: state.NewRecordID(state.KindPublish, key, now), Kind: state.KindPublish, Target: key,
		Actor: actor, Started: now, Finished: now, Outcome: outcome, Reason: reason, Image: r.Image, Source: r.SourceCommit,
		Changes: []state.RecordChange{}}
	if evidence != nil {
		rec.Evidence = *evidence
	}
	b, err := state.EncodeRecord(rec)
	if err != nil {
		return "", err
	}
	_, err = store.Commit(ctx, state.Write{
		Base: snap.Commit(), Changes: []state.Change{{Path: state.RecordPath(key, rec.ID), Data: b}},
		Message:  fmt.Sprintf("launchplane: publish %s to %s: %s", state.ShortImage(r.Image), key, outcome),
		Trailers: []state.Trailer{{Key: "Launchplane-Actor", Value: actor}, {Key: "Launchplane-Records", Value: rec.ID}},
		Author:   state.Signature{Name: "launchplane", Email: "launchplane@localhost", When: now},
	})
	return rec.ID, err
}
