package render

import (
	"fmt"
	"strings"

	"github.com/launchplane/launchplane/plan"
)

// CauseJSON is the wire form of a change's cause: the config node that
// caused it ("line" and "col" 0 when it is a whole file), or a note.
type CauseJSON struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Note string `json:"note,omitempty"`
}

func causeJSON(c *plan.Cause) *CauseJSON {
	if c == nil {
		return nil
	}
	return &CauseJSON{Path: c.Path, Line: c.Line, Col: c.Col, Note: c.Note}
}

func causeOf(c *CauseJSON) *plan.Cause {
	if c == nil {
		return nil
	}
	return &plan.Cause{Path: c.Path, Line: c.Line, Col: c.Col, Note: c.Note}
}

// humanReason is the reason and its cause: "image changed, targets/shop.yaml:7".
func humanReason(c plan.Change) string {
	if s := c.Cause.String(); s != "" {
		return c.Reason + ", " + s
	}
	return c.Reason
}

// mdReason is the reason cell: the reason and its cause, a link to the
// cause's line when opts can make one.
func mdReason(c plan.Change, opts MarkdownOptions) string {
	r := mdText(c.Reason, mdTextMax)
	cause := c.Cause
	if cause == nil {
		return r
	}
	where := cause.Path
	if cause.Line > 0 {
		where = fmt.Sprintf("%s:%d", cause.Path, cause.Line)
	}
	var parts []string
	if where != "" {
		link := mdCode(where)
		if opts.SourceURL != nil && cause.Note == "" {
			if u := opts.SourceURL(cause.Path, cause.Line); u != "" {
				link = "[" + link + "](" + mdURL(u) + ")"
			}
		}
		parts = append(parts, link)
	}
	if cause.Note != "" {
		parts = append(parts, mdText(cause.Note, mdTextMax))
	}
	return r + ", " + strings.Join(parts, ": ")
}

// mdURL keeps a URL from closing the link: parentheses, spaces and angle
// brackets are percent-encoded.
func mdURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "|", "%7C").Replace(u)
}

// MarkdownText escapes untrusted text for markdown outside code, as plan
// comments do.
func MarkdownText(s string) string { return mdText(s, mdWarnMax) }
