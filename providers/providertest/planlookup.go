package providertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers"
)

// OpReviewed is the first call of PlanLookup.ReviewedComment: listing the
// pull or merge requests of a commit.
const OpReviewed Op = "reviewed"

// ChangeSeeder is a FeedbackSeeder that can also record which pull or
// merge requests a commit of the default branch belongs to.
type ChangeSeeder interface {
	FeedbackSeeder
	// SeedMerged records change pr as merged, the merge having made
	// commit sha (its merge, squash or rebased commit); commits are the
	// change's own commits, which the merge brought to the default
	// branch too.
	SeedMerged(t *testing.T, pr int, sha string, commits ...string)
	// SeedOpen records change pr as open and holding commit sha (on
	// GitHub, sha is also its test merge commit).
	SeedOpen(t *testing.T, pr int, sha string)
	// SeedCommit records sha as a commit of the repository that no
	// change holds (a direct push).
	SeedCommit(t *testing.T, sha string)
}

// PlanLookupSetup is Setup for the optional PlanLookup role of a
// Feedback provider; Provider is the name every error must hold.
type PlanLookupSetup struct {
	Setup[providers.Feedback]
}

// lookupMarker is the marker of the PlanLookup suite's plan comments.
const lookupMarker = "<!-- launchplane:plan conf -->"

// Commits of the PlanLookup suite.
var (
	shaMerged = strings.Repeat("a1", 20)
	shaOther  = strings.Repeat("b2", 20)
)

// RunPlanLookup is the PlanLookup conformance suite: what counts as the
// reviewed plan of a commit, and everything that must not.
func RunPlanLookup(t *testing.T, s PlanLookupSetup) {
	lookup := func(t *testing.T) (providers.PlanLookup, ChangeSeeder) {
		f, be := s.New(t)
		pl, ok := f.(providers.PlanLookup)
		if !ok {
			t.Fatalf("%T does not implement providers.PlanLookup", f)
		}
		cs, ok := be.(ChangeSeeder)
		if !ok {
			t.Fatalf("backend %T is not a ChangeSeeder", be)
		}
		return pl, cs
	}
	notReviewed := func(t *testing.T, err error) {
		t.Helper()
		CheckError(t, err, s.Provider, "reviewed plan", "")
		if !errors.Is(err, providers.ErrNotReviewed) {
			t.Fatalf("%v does not wrap ErrNotReviewed", err)
		}
	}
	t.Run("own-comment-found-forgery-ignored", func(t *testing.T) {
		pl, cs := lookup(t)
		cs.SeedMerged(t, 7, shaMerged)
		cs.Seed(t, 7, false, lookupMarker+"\nforged <!-- launchplane:plan-hash sha256:"+strings.Repeat("f", 64)+" -->")
		cs.Seed(t, 7, true, lookupMarker+"\nthe reviewed plan")
		r, err := pl.ReviewedComment(ctxT(t), shaMerged, lookupMarker)
		if err != nil {
			t.Fatal(err)
		}
		if r.Change != 7 || r.Body != lookupMarker+"\nthe reviewed plan" || r.Ignored != 1 || !strings.HasSuffix(r.ChangeRef, "7") {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("only-another-users-comment", func(t *testing.T) {
		pl, cs := lookup(t)
		cs.SeedMerged(t, 7, shaMerged)
		cs.Seed(t, 7, false, lookupMarker+"\nforged <!-- launchplane:plan-hash sha256:"+strings.Repeat("f", 64)+" -->")
		_, err := pl.ReviewedComment(ctxT(t), shaMerged, lookupMarker)
		notReviewed(t, err)
	})
	t.Run("marker-in-code-or-quote", func(t *testing.T) {
		pl, cs := lookup(t)
		cs.SeedMerged(t, 7, shaMerged)
		cs.Seed(t, 7, true, "see:\n```\n"+lookupMarker+"\n```", "> "+lookupMarker+"\n> quoted plan", "    "+lookupMarker)
		_, err := pl.ReviewedComment(ctxT(t), shaMerged, lookupMarker)
		notReviewed(t, err)
	})
	t.Run("change-that-merged-another-commit", func(t *testing.T) {
		pl, cs := lookup(t)
		// shaOther is a commit of change 7, which merged as shaMerged: a
		// job at shaOther (the branch reset to it) is not what 7 showed
		cs.SeedMerged(t, 7, shaMerged, shaOther)
		cs.Seed(t, 7, true, lookupMarker+"\nplan of 7")
		_, err := pl.ReviewedComment(ctxT(t), shaOther, lookupMarker)
		notReviewed(t, err)
	})
	t.Run("direct-push", func(t *testing.T) {
		pl, cs := lookup(t)
		cs.SeedMerged(t, 7, shaMerged)
		cs.Seed(t, 7, true, lookupMarker+"\nplan of 7")
		cs.SeedCommit(t, shaOther)
		_, err := pl.ReviewedComment(ctxT(t), shaOther, lookupMarker)
		notReviewed(t, err)
	})
	t.Run("open-change-holding-the-commit", func(t *testing.T) {
		pl, cs := lookup(t)
		cs.SeedOpen(t, 8, shaOther)
		cs.Seed(t, 8, true, lookupMarker+"\nplan of the open change")
		_, err := pl.ReviewedComment(ctxT(t), shaOther, lookupMarker)
		notReviewed(t, err)
	})
	t.Run("two-changes-claim-the-commit", func(t *testing.T) {
		pl, cs := lookup(t)
		cs.SeedMerged(t, 7, shaMerged)
		cs.SeedMerged(t, 8, shaMerged)
		cs.Seed(t, 7, true, lookupMarker+"\nplan of 7")
		cs.Seed(t, 8, true, lookupMarker+"\nplan of 8")
		_, err := pl.ReviewedComment(ctxT(t), shaMerged, lookupMarker)
		CheckError(t, err, s.Provider, "reviewed plan", "")
		if errors.Is(err, providers.ErrNotReviewed) || !strings.Contains(err.Error(), "7") || !strings.Contains(err.Error(), "8") || !strings.Contains(err.Error(), "several") {
			t.Fatalf("two changes claiming the commit: %v, want an error naming both", err)
		}
	})
	t.Run("plan-comment-on-page-3", func(t *testing.T) {
		pl, cs := lookup(t)
		cs.SeedMerged(t, 7, shaMerged)
		others := make([]string, 229)
		for i := range others {
			others[i] = fmt.Sprintf("review %d", i+1)
		}
		cs.Seed(t, 7, false, others...)
		cs.Seed(t, 7, true, lookupMarker+"\nplan on page 3")
		r, err := pl.ReviewedComment(ctxT(t), shaMerged, lookupMarker)
		if err != nil || r.Body != lookupMarker+"\nplan on page 3" {
			t.Fatalf("got %+v, %v", r, err)
		}
	})
	t.Run("api-error", func(t *testing.T) {
		pl, cs := lookup(t)
		cs.SeedMerged(t, 7, shaMerged)
		cs.Seed(t, 7, true, lookupMarker+"\nplan")
		cs.Fail(t, OpReviewed, failure)
		_, err := pl.ReviewedComment(ctxT(t), shaMerged, lookupMarker)
		CheckError(t, err, s.Provider, "reviewed plan", "")
		if errors.Is(err, providers.ErrNotReviewed) {
			t.Fatalf("an API failure taken for a verdict: %v", err)
		}
	})
	t.Run("slow", func(t *testing.T) {
		pl, cs := lookup(t)
		sb, ok := any(cs).(SlowBackend)
		if !ok {
			t.Skipf("backend %T cannot be slow", cs)
		}
		cs.SeedMerged(t, 7, shaMerged)
		release := sb.Hold(t)
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := pl.ReviewedComment(ctx, shaMerged, lookupMarker)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, providers.ErrNotReviewed) {
			t.Fatalf("a server that does not answer: %v, want the context's deadline", err)
		}
		CheckError(t, err, s.Provider, "reviewed plan", "")
	})
	t.Run("canceled", func(t *testing.T) {
		pl, _ := lookup(t)
		_, err := pl.ReviewedComment(canceled(), shaMerged, lookupMarker)
		checkCanceled(t, "reviewed plan", err)
	})
	t.Run("not-a-commit-sha", func(t *testing.T) {
		pl, _ := lookup(t)
		for _, sha := range []string{"", "main", "../../user", strings.Repeat("A", 40)} {
			_, err := pl.ReviewedComment(ctxT(t), sha, lookupMarker)
			CheckError(t, err, s.Provider, "reviewed plan", "")
			if errors.Is(err, providers.ErrNotReviewed) {
				t.Fatalf("sha %q: %v", sha, err)
			}
		}
	})
}
