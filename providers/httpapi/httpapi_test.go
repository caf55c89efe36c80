package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/redact"
)

func server(t *testing.T, h http.HandlerFunc) *Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{Base: srv.URL, Redactor: redact.New("s3cret-value"), Backoff: time.Millisecond}
}

func TestReadsAreRetriedWritesAreNot(t *testing.T) {
	var gets, posts atomic.Int32
	c := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := gets.Load()
		if r.Method == http.MethodPost {
			n = posts.Add(1)
		} else {
			n = gets.Add(1)
		}
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"ok": 1}`))
	})
	var out struct{ OK int }
	if _, err := c.Do(context.Background(), Request{Path: "/x"}, &out); err != nil || out.OK != 1 {
		t.Fatalf("GET: %v, %+v", err, out)
	}
	if got := gets.Load(); got != 3 {
		t.Fatalf("GET tried %d times, want 3", got)
	}
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x", Body: map[string]int{"a": 1}}, nil)
	var ae *providers.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("POST: %v, want an APIError 503", err)
	}
	if got := posts.Load(); got != 1 {
		t.Fatalf("POST tried %d times, want 1 (writes are not retried)", got)
	}
}

func TestErrorsAreRedactedCutAndTyped(t *testing.T) {
	long := strings.Repeat("x", 3*MaxErrorBody)
	c := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.Error(w, `{"message":"no such app"}`, http.StatusNotFound)
		case "/auth":
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		default:
			http.Error(w, `{"message":"echo s3cret-value and Authorization: Bearer abc.def `+long+`"}`, http.StatusBadRequest)
		}
	})
	ctx := context.Background()
	_, err := c.Do(ctx, Request{Path: "/missing"}, nil)
	if !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("404: %v does not wrap ErrNotFound", err)
	}
	_, err = c.Do(ctx, Request{Path: "/auth"}, nil)
	if !errors.Is(err, providers.ErrUnauthorized) {
		t.Errorf("401: %v does not wrap ErrUnauthorized", err)
	}
	_, err = c.Do(ctx, Request{Method: http.MethodPost, Path: "/bad", Body: struct{}{}}, nil)
	msg := err.Error()
	if strings.Contains(msg, "s3cret-value") || strings.Contains(msg, "abc.def") {
		t.Errorf("secret in error: %s", msg)
	}
	if !strings.HasPrefix(msg, "POST /bad: HTTP 400: ") || len(msg) > MaxErrorBody+100 {
		t.Errorf("error not cut to %d bytes or badly formed (%d bytes): %.200s", MaxErrorBody, len(msg), msg)
	}
}

func TestCanceledContext(t *testing.T) {
	release := make(chan struct{})
	c := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Do(ctx, Request{Path: "/slow"}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v does not wrap context.Canceled", err)
	}
}

func TestMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"message":"Unauthorized","code":"UNAUTHORIZED"}`:     "Unauthorized",
		`{"error":{"code":400,"message":"Token has expired"}}`: "Token has expired",
		`{"error":"unknown object ID"}`:                        "unknown object ID",
		`plain text`:                                           "plain text",
	} {
		if got := Message(body); got != want {
			t.Errorf("Message(%s) = %q, want %q", body, got, want)
		}
	}
}
