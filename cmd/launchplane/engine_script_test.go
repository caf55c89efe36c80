package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/launchplane/launchplane/providers/compose/enginetest"
)

// engineCond is the script condition [docker]: false only when the
// machine cannot run the real docker stack and CI is not set, so CI
// never skips.
func engineCond() bool { return enginetest.Check() == nil || enginetest.Required() }

// stopEngine wraps the test binary's run: the shared docker stack is
// stopped once every script has run.
type stopEngine struct{ m interface{ Run() int } }

func (s stopEngine) Run() int {
	code := s.m.Run()
	if err := enginetest.StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// cmdEngineStart starts the shared docker stack (once per test binary)
// and sets DOCKER_HOST, DOCKER_CONFIG, REGISTRY, REPO (the test images'
// repository, registry included) and IMG_<NAME> (healthy, healthy2,
// unhealthy, slow, exits, recorder: repo@sha256 refs) and <NAME>_DIGEST
// (their hex digests): engine-start.
func cmdEngineStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: engine-start")
	}
	s, err := enginetest.SharedStack()
	ts.Check(err)
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
	ts.Setenv("REGISTRY", s.Registry)
	ts.Setenv("REPO", s.Registry+"/"+enginetest.Repo)
	for name, ref := range s.Images {
		ts.Setenv("IMG_"+strings.ToUpper(name), ref)
		_, digest, _ := strings.Cut(ref, "@sha256:")
		ts.Setenv(strings.ToUpper(name)+"_DIGEST", digest)
	}
}

var caddySeq atomic.Int64

// cmdEngineCaddy runs a caddy container on the stack's network for this
// script and sets CADDY_ADMIN and CADDY_HTTP: engine-caddy.
func cmdEngineCaddy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: engine-caddy")
	}
	s, err := enginetest.SharedStack()
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := fmt.Sprintf("caddy-%d-%d", os.Getpid(), caddySeq.Add(1))
	c, err := s.StartCaddy(ctx, name)
	ts.Check(err)
	ts.Defer(func() { _ = s.StopCaddy(name) })
	ts.Setenv("CADDY_ADMIN", c.AdminURL)
	ts.Setenv("CADDY_HTTP", c.HTTPAddr)
}
