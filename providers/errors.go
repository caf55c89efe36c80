package providers

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrJobFailed is wrapped when a job ran and failed.
	ErrJobFailed = errors.New("job failed")
	// ErrCannotObserve is wrapped by an Observe or ListRoutes of a
	// provider that cannot see the live system; drift detection says so
	// instead of guessing.
	ErrCannotObserve = errors.New("cannot observe")
	// ErrUnauthorized is wrapped when the platform refused the credentials.
	ErrUnauthorized = errors.New("unauthorized")
)

// OpError is every adapter error: which provider did what to which target.
// Its message reads "deploy shop/prod via dokploy-main: …".
type OpError struct {
	Provider string // provider name from the config
	Op       string // observe, deploy, destroy, list routes, route, delete route, job, backup, restore, comment, status
	Target   string // target key; "" for calls not about one target
	Err      error
}

func (e *OpError) Error() string {
	if e.Target == "" {
		return fmt.Sprintf("%s via %s: %v", e.Op, e.Provider, e.Err)
	}
	return fmt.Sprintf("%s %s via %s: %v", e.Op, e.Target, e.Provider, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// Wrap returns err as an *OpError, or nil for nil. An error that already is
// an OpError of the same provider is returned as it is.
func Wrap(provider, op, target string, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) && oe.Provider == provider {
		return err
	}
	return &OpError{Provider: provider, Op: op, Target: target, Err: err}
}

// APIError is an HTTP API's refusal. Body must already be redacted and
// cut short by whoever builds it.
type APIError struct {
	Method string
	Path   string // without the query string, which may carry ids only
	Status int
	Body   string
	// Sentinel is wrapped for errors.Is: ErrNotFound for 404,
	// ErrUnauthorized for 401, or nil.
	Sentinel error
}

func (e *APIError) Error() string {
	body := strings.TrimSpace(e.Body)
	if body == "" {
		return fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, body)
}

func (e *APIError) Unwrap() error { return e.Sentinel }
