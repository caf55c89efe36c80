package providers

import "context"

// Marked is one comment of a thread, for UpsertMarked.
type Marked struct {
	ID   int64
	Body string
	// Own is whether the comment counts: written by the token's own
	// identity, by the forge's rules. Anyone may post the marker, so
	// another author's comment is never taken for Launchplane's.
	Own bool
}

// Thread is the comments of one pull or merge request on a forge, as
// UpsertMarked reads and writes them. Its errors are returned as they
// are.
type Thread interface {
	// Page lists page (1 is the first) of the comments, oldest first,
	// and the number of the next page, 0 after the last. A next page
	// that does not follow page is an error of Page's, in the forge's
	// words.
	Page(ctx context.Context, page int64) ([]Marked, int64, error)
	// Update replaces the body of comment id.
	Update(ctx context.Context, id int64, body string) error
	// Create posts a new comment.
	Create(ctx context.Context, body string) error
}

// MarkBody is body with marker on a line of its own before it, unless
// body already holds marker as HoldsMarker says. body is to be redacted
// first: what is sent is what was measured.
func MarkBody(body, marker string) string {
	if HoldsMarker(body, marker) {
		return body
	}
	return marker + "\n" + body
}

// UpsertMarked keeps one comment per thread and marker: it lists t page
// by page until the first own comment that holds marker (HoldsMarker:
// never in a quote or a code block), and updates it unless its body is
// already body; later ones are left as they are, and later pages are not
// fetched. When no page holds one, it creates a comment. body is sent as
// given: redacted and marked (MarkBody) by the caller.
func UpsertMarked(ctx context.Context, t Thread, marker, body string) error {
	for page := int64(1); ; {
		list, next, err := t.Page(ctx, page)
		if err != nil {
			return err
		}
		for _, c := range list {
			if !c.Own || !HoldsMarker(c.Body, marker) {
				continue
			}
			if c.Body == body {
				return nil
			}
			return t.Update(ctx, c.ID, body)
		}
		if next == 0 {
			return t.Create(ctx, body)
		}
		page = next
	}
}
