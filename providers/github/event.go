package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Event is what Launchplane needs of the GitHub Actions event that started
// a run: which pull request to comment on and which commit a status
// belongs to.
type Event struct {
	Name        string // $GITHUB_EVENT_NAME: pull_request, push, issue_comment…
	Repository  string // owner/name
	PullRequest int    // 0 when the event is not about a pull request
	// SHA is the pull request's head commit when the event names it (for
	// pull_request events $GITHUB_SHA is a merge commit nobody sees),
	// "" for a comment on a pull request, else $GITHUB_SHA.
	SHA string
}

// ActionsEvent reads the event of the running GitHub Actions job: the
// JSON file at $GITHUB_EVENT_PATH, with $GITHUB_EVENT_NAME,
// $GITHUB_REPOSITORY and $GITHUB_SHA, looked up with getenv (os.Getenv
// when nil).
func ActionsEvent(getenv func(string) string) (Event, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return Event{}, errors.New("not in GitHub Actions: $GITHUB_EVENT_PATH is not set")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return Event{}, fmt.Errorf("read GitHub event: %w", err)
	}
	var doc struct {
		PullRequest *struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
		Issue *struct {
			Number      int             `json:"number"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Event{}, fmt.Errorf("GitHub event %s: %w", path, err)
	}
	ev := Event{
		Name:       getenv("GITHUB_EVENT_NAME"),
		Repository: firstOf(doc.Repository.FullName, getenv("GITHUB_REPOSITORY")),
		SHA:        getenv("GITHUB_SHA"),
	}
	switch {
	case doc.PullRequest != nil && doc.PullRequest.Number > 0:
		ev.PullRequest = doc.PullRequest.Number
		ev.SHA = firstOf(doc.PullRequest.Head.SHA, ev.SHA)
	case doc.Issue != nil && len(doc.Issue.PullRequest) > 0 && string(doc.Issue.PullRequest) != "null":
		// A comment on a pull request: the event does not name its head,
		// and $GITHUB_SHA is the default branch's.
		ev.PullRequest = doc.Issue.Number
		ev.SHA = ""
	}
	return ev, nil
}
