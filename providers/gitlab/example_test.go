package gitlab

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The example .gitlab-ci.yml uses only keywords GitLab CI knows
// (docs.gitlab.com/ci/yaml/, "Keywords": global and job keywords, checked
// 2026-12), plans with the
// note on merge requests and applies on the default branch only what the
// merged merge request's note showed (never unbound), and gives
// launchplane GITLAB_TOKEN, never CI_JOB_TOKEN, to post with.
func TestExampleGitLabCI(t *testing.T) {
	raw, err := os.ReadFile("../../examples/workflows/gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	global := map[string]bool{"default": true, "include": true, "stages": true, "variables": true, "workflow": true,
		"image": true, "services": true, "cache": true, "before_script": true, "after_script": true}
	var top map[string]any
	if err := yaml.Unmarshal(raw, &top); err != nil {
		t.Fatalf("gitlab-ci.yml: %v", err)
	}
	doc := map[string]map[string]any{}
	for k, v := range top {
		m, ok := v.(map[string]any)
		if !ok && !global[k] {
			t.Errorf("job %s is not a mapping", k)
		}
		doc[k] = m
	}
	jobKeys := map[string]bool{"after_script": true, "allow_failure": true, "artifacts": true, "before_script": true, "cache": true,
		"coverage": true, "dast_configuration": true, "dependencies": true, "environment": true, "extends": true, "hooks": true,
		"identity": true, "id_tokens": true, "image": true, "inherit": true, "interruptible": true, "manual_confirmation": true,
		"needs": true, "pages": true, "parallel": true, "release": true, "resource_group": true, "retry": true, "rules": true,
		"run": true, "script": true, "secrets": true, "services": true, "stage": true, "tags": true, "timeout": true,
		"trigger": true, "variables": true, "when": true}
	for name, job := range doc {
		if global[name] {
			continue
		}
		for k := range job {
			if !jobKeys[k] {
				t.Errorf("job %s: %q is not a GitLab CI job keyword", name, k)
			}
		}
		if _, ok := job["script"]; !ok {
			t.Errorf("job %s has no script", name)
		}
	}
	text := func(v any) string { b, _ := yaml.Marshal(v); return string(b) }
	plan, apply := doc["plan"], doc["apply"]
	if plan == nil || apply == nil {
		t.Fatalf("want jobs plan and apply, got %v", doc)
	}
	if r := text(plan["rules"]); !strings.Contains(r, `$CI_PIPELINE_SOURCE == "merge_request_event"`) {
		t.Errorf("plan rules %s: not on merge requests", r)
	}
	if s := text(plan["script"]); !strings.Contains(s, "launchplane plan") || !strings.Contains(s, "--comment") {
		t.Errorf("plan script %s: no plan --comment", s)
	}
	if r := text(apply["rules"]); !strings.Contains(r, "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH") {
		t.Errorf("apply rules %s: not on the default branch", r)
	}
	if s := text(apply["script"]); !strings.Contains(s, "launchplane apply") {
		t.Errorf("apply script %s", s)
	}
	if s := text(apply["script"]); !strings.Contains(s, "--expect-reviewed-plan") {
		t.Errorf("apply script %s: the default branch's apply is not bound to the merged merge request's plan (--expect-reviewed-plan)", s)
	}
	// No job applies unbound: every apply names the plan it may run.
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, "launchplane apply") && !strings.Contains(line, "--expect-reviewed-plan") && !strings.Contains(line, "--expect-plan-hash") {
			t.Errorf("an unbound apply: %s", strings.TrimSpace(line))
		}
	}
	if apply["resource_group"] == nil {
		t.Errorf("apply has no resource_group: two applies could overlap")
	}
	if strings.Contains(string(raw), "GITLAB_TOKEN: $CI_JOB_TOKEN") || strings.Contains(string(raw), "GITLAB_TOKEN=$CI_JOB_TOKEN") {
		t.Errorf("the example gives CI_JOB_TOKEN as GITLAB_TOKEN: it cannot post notes")
	}
}
