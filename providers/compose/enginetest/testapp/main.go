// Command testapp is the app of enginetest's images: a tiny static web
// server built into images FROM scratch. Its behaviour is set by the
// image's environment:
//
//	APP_NAME, APP_VERSION  what GET / answers: "hello from NAME VERSION"
//	APP_MODE               "" (healthy), "unhealthy" (/healthz answers 503),
//	                       "slow" (listens only after APP_DELAY), "exit"
//	                       (exits with status 3 at once)
//	PORT                   listen port (default 8080)
//
// "testapp health" is the image's HEALTHCHECK: it asks /healthz. Any
// other arguments make it a job: it prints them as JSON ("args: [...]")
// and the names (never the values) of its LP_* environment variables,
// posts the same to RECORD_URL when that is set, and exits 0 (the odoo
// driver's jobs run "odoo …" and "python3 -c …" in the app's image). The
// server keeps what is posted to /record and lists it at /records, one
// JSON line each.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if len(os.Args) > 1 {
		if os.Args[1] == "health" {
			resp, err := http.Get("http://127.0.0.1:" + port + "/healthz")
			if err != nil || resp.StatusCode != http.StatusOK {
				os.Exit(1)
			}
			os.Exit(0)
		}
		job(os.Args[1:])
		return
	}
	switch os.Getenv("APP_MODE") {
	case "exit":
		fmt.Fprintln(os.Stderr, "testapp: exiting at start, as configured")
		os.Exit(3)
	case "slow":
		d, err := time.ParseDuration(os.Getenv("APP_DELAY"))
		if err != nil {
			d = 5 * time.Second
		}
		time.Sleep(d) // the image is slow to start on purpose
	}
	unhealthy := os.Getenv("APP_MODE") == "unhealthy"
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if unhealthy {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"ok": false, "error": "database connection refused"}`)
			return
		}
		fmt.Fprintln(w, `{"ok": true}`)
	})
	var mu sync.Mutex
	var records []string
	http.HandleFunc("/record", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		mu.Lock()
		records = append(records, strings.TrimSpace(string(b)))
		mu.Unlock()
	})
	http.HandleFunc("/records", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		for _, rec := range records {
			fmt.Fprintln(w, rec)
		}
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s %s\n", os.Getenv("APP_NAME"), os.Getenv("APP_VERSION"))
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe(":"+port, nil))
	os.Exit(1)
}

func job(args []string) {
	raw, _ := json.Marshal(args)
	fmt.Printf("args: %s\n", raw)
	keys := []string{}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "LP_") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	fmt.Printf("env keys: %s\n", strings.Join(keys, ","))
	if strings.Contains(strings.Join(args, " "), "pg_dump") {
		// what the backup script prints after pg_dump, stat and sha256sum
		fmt.Printf("size=%d\nsha256=%x\n", len(raw), sha256.Sum256(raw))
	}
	if url := os.Getenv("RECORD_URL"); url != "" {
		rec, _ := json.Marshal(map[string]any{"args": args, "env_keys": keys})
		resp, err := http.Post(url, "application/json", bytes.NewReader(rec))
		if err != nil {
			fmt.Fprintln(os.Stderr, "record:", err)
			os.Exit(1)
		}
		resp.Body.Close()
	}
}
