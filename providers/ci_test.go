package providers

import (
	"encoding/json"
	"strings"
	"testing"
)

// DetectCI takes the surest CI reader; equally sure readers are an
// error, never a silent pick; readers of types without the Feedback role
// are not asked.
func TestDetectCI(t *testing.T) {
	vars := map[string]string{}
	reader := func(name, marker string) func(CIEnv) (CIJob, CIMatch) {
		return func(env CIEnv) (CIJob, CIMatch) {
			switch env.Getenv(marker) {
			case "sure":
				return CIJob{System: name}, CIThis
			case "maybe":
				return CIJob{System: name}, CIMaybe
			}
			return CIJob{}, CINone
		}
	}
	schema := json.RawMessage(`{}`)
	Register(Info{Type: "test-ci-a", Roles: []Role{RoleFeedback}, ConfigSchema: schema, CI: reader("A", "A")})
	Register(Info{Type: "test-ci-b", Roles: []Role{RoleFeedback}, ConfigSchema: schema, CI: reader("B", "B")})
	Register(Info{Type: "test-ci-c", Roles: []Role{RoleDeployer}, ConfigSchema: schema, CI: reader("C", "C")})
	env := CIEnv{Getenv: func(k string) string { return vars[k] }}

	if _, ok, err := DetectCI(env); ok || err != nil {
		t.Fatalf("nothing set: ok %v, err %v", ok, err)
	}
	vars["C"] = "sure"
	if _, ok, err := DetectCI(env); ok || err != nil {
		t.Fatalf("a reader without the Feedback role was asked: ok %v, err %v", ok, err)
	}
	vars["A"], vars["B"] = "maybe", "sure"
	job, ok, err := DetectCI(env)
	if err != nil || !ok || job.System != "B" || job.Provider != "test-ci-b" {
		t.Fatalf("surest: %+v %v %v", job, ok, err)
	}
	vars["A"] = "sure"
	if _, _, err := DetectCI(env); err == nil || !strings.Contains(err.Error(), "test-ci-a, test-ci-b") {
		t.Fatalf("two sure readers: %v, want an error naming both", err)
	}
}
