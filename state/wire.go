package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// The wire form of a record: the record with its evidence (and each
// change's) as raw JSON, decoded into the type its kind calls for.

type recordFields Record

type wireRecord struct {
	recordFields
	Changes  []wireChange    `json:"changes"`
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

type changeFields RecordChange

type wireChange struct {
	changeFields
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// normalized is rec as it is written: each evidence checked, and left
// out when it holds nothing (as an empty map was).
func normalized(rec *Record) (*Record, error) {
	cp := *rec
	var err error
	if cp.Evidence, err = written(rec.Evidence); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if rec.Changes != nil {
		cp.Changes = make([]RecordChange, len(rec.Changes))
	}
	for i, c := range rec.Changes {
		if c.Evidence, err = written(c.Evidence); err != nil {
			return nil, fmt.Errorf("changes/%d/evidence: %w", i, err)
		}
		cp.Changes[i] = c
	}
	return &cp, nil
}

func written(e Evidence) (Evidence, error) {
	if e == nil {
		return nil, nil
	}
	if err := e.Check(); err != nil {
		return nil, fmt.Errorf("%T: %w", e, err)
	}
	if len(e.Fields()) == 0 {
		return nil, nil
	}
	return e, nil
}

// typed decodes the evidence of w and its changes into their types.
func (w *wireRecord) typed() (*Record, error) {
	rec := Record(w.recordFields)
	rec.Evidence = nil
	if w.Changes != nil {
		rec.Changes = make([]RecordChange, 0, len(w.Changes))
	}
	if len(w.Evidence) > 0 {
		ev, err := decodeEvidence(w.Evidence, recordEvidence(rec.Kind, rec.Outcome))
		if err != nil {
			return nil, fmt.Errorf("evidence%w", err)
		}
		rec.Evidence = ev
	}
	for i, wc := range w.Changes {
		c := RecordChange(wc.changeFields)
		c.Evidence = nil
		if len(wc.Evidence) > 0 {
			kind, err := StepKind(rec.Target, c.Address)
			if err != nil {
				return nil, fmt.Errorf("changes/%d/address: %w", i, err)
			}
			ev, err := decodeEvidence(wc.Evidence, changeEvidence(kind, c.Action, wc.Evidence))
			if err != nil {
				return nil, fmt.Errorf("changes/%d/evidence%w", i, err)
			}
			c.Evidence = ev
		}
		rec.Changes = append(rec.Changes, c)
	}
	return &rec, nil
}

// StepKind is the step kind a change address of target names: app,
// health, backup, post-deploy, restore, sanitize, or route (for
// <target>/route/<domain>).
func StepKind(target, address string) (string, error) {
	rest, ok := strings.CutPrefix(address, target+"/")
	if !ok || rest == "" {
		return "", fmt.Errorf("%q is not an address of %s", address, target)
	}
	kind, _, _ := strings.Cut(rest, "/")
	return kind, nil
}

// recordEvidence is the type of a record's evidence, by its kind and
// outcome.
func recordEvidence(kind RecordKind, outcome RecordOutcome) func() Evidence {
	switch {
	case outcome == RecordInterrupted:
		return func() Evidence { return &InterruptedEvidence{} }
	case kind == KindDenied, kind == KindPublish, outcome == RecordDenied:
		return func() Evidence { return &PolicyEvidence{} }
	case kind == KindBackupGate:
		return func() Evidence { return &BackupEvidence{} }
	case kind == KindUnlock:
		return func() Evidence { return &UnlockEvidence{} }
	case kind == KindRelease:
		return func() Evidence { return &ReleaseEvidence{} }
	}
	return func() Evidence { return &RunEvidence{} }
}

// changeEvidence is the type of a change's evidence, by the step kind
// its address names and its action; where one step gives one of two
// shapes (an app deployed or found deployed, a health check run or
// skipped, a gate taken or reused) the shape's own key tells which.
func changeEvidence(kind, action string, raw json.RawMessage) func() Evidence {
	has := func(key string) bool {
		var m map[string]json.RawMessage
		_ = json.Unmarshal(raw, &m)
		_, ok := m[key]
		return ok
	}
	switch kind {
	case "app":
		switch {
		case action == "rollback" && !has("image"):
			return func() Evidence { return &RestoreByHand{} }
		case has("image"):
			return func() Evidence { return &DeployEvidence{} }
		}
		return func() Evidence { return &AlreadyDeployed{} }
	case "route":
		return func() Evidence { return &RouteEvidence{} }
	case "health":
		if has("skipped") {
			return func() Evidence { return &HealthSkipped{} }
		}
		return func() Evidence { return &HealthEvidence{} }
	case "backup":
		switch {
		case action == "restore":
			return func() Evidence { return &RestoreEvidence{} }
		case has("reused"):
			return func() Evidence { return &GateReused{} }
		}
		return func() Evidence { return &BackupEvidence{} }
	case "restore":
		return func() Evidence { return &RestoreEvidence{} }
	case "post-deploy":
		return func() Evidence { return &PostDeployEvidence{} }
	case "sanitize":
		return func() Evidence { return &SanitizeEvidence{} }
	}
	return nil
}

// decodeEvidence decodes raw strictly into the type newEv makes; the
// error starts with the path of the failing field (": …" or
// "/field: …").
func decodeEvidence(raw json.RawMessage, newEv func() Evidence) (Evidence, error) {
	if newEv == nil {
		return nil, errors.New(": no evidence is recorded for this step kind")
	}
	p := newEv()
	if err := strict(raw, p); err != nil {
		return nil, fieldError(err)
	}
	// the value, not the pointer, is the evidence
	ev := deref(p)
	if err := ev.Check(); err != nil {
		return nil, fmt.Errorf(": %T: %w", ev, err)
	}
	return ev, nil
}

func deref(p Evidence) Evidence {
	switch v := p.(type) {
	case *DeployEvidence:
		return *v
	case *AlreadyDeployed:
		return *v
	case *HealthEvidence:
		return *v
	case *HealthSkipped:
		return *v
	case *RouteEvidence:
		return *v
	case *BackupEvidence:
		return *v
	case *GateReused:
		return *v
	case *RestoreEvidence:
		return *v
	case *RestoreByHand:
		return *v
	case *PostDeployEvidence:
		return *v
	case *SanitizeEvidence:
		return *v
	case *RunEvidence:
		return *v
	case *PolicyEvidence:
		return *v
	case *UnlockEvidence:
		return *v
	case *ReleaseEvidence:
		return *v
	case *InterruptedEvidence:
		return *v
	}
	panic(fmt.Sprintf("state: evidence %T", p))
}

// strict decodes one JSON document into v, refusing unknown fields.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// fieldError names the field a decoding error is about.
func fieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		var path []string
		for _, f := range strings.Split(te.Field, ".") {
			if f != "" && !unicode.IsUpper(rune(f[0])) { // not an embedded struct's name
				path = append(path, f)
			}
		}
		return fmt.Errorf("/%s: %s is not %s", strings.Join(path, "/"), te.Value, te.Type)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("/%s: unknown field", strings.Trim(f, `"`))
	}
	return fmt.Errorf(": %w", err)
}

// upgradeRecord brings a record of an older form of its format_version
// to the current form, in place, and reports whether it did. It is the
// one place old forms are known (like Terraform's state upgraders):
//
// format_version "1" before the typed gate: a backup-gate record kept
// its gate only as evidence keys (gate, backup_id, location, size,
// checksum, duration_ms, database, method). Its Gate is derived from
// them; taken is the record's start; the provider was never recorded
// (LegacyGateProvider).
func upgradeRecord(w *wireRecord) (bool, error) {
	switch w.FormatVersion {
	case "1":
		if w.Kind != KindBackupGate || w.Gate != nil {
			return false, nil
		}
		if len(w.Evidence) == 0 {
			return false, errors.New("gate: missing (and no evidence of a gate to upgrade from)")
		}
		var ev BackupEvidence
		if err := strict(w.Evidence, &ev); err != nil {
			return false, fmt.Errorf("evidence%w (a backup-gate record without a gate: its evidence must be a legacy gate)", fieldError(err))
		}
		if err := ev.Check(); err != nil {
			return false, fmt.Errorf("evidence: legacy gate: %w", err)
		}
		if ev.Gate != w.ID {
			return false, fmt.Errorf("evidence/gate: %q is not the record's id %s", ev.Gate, w.ID)
		}
		w.Gate = &Gate{Record: ev.Gate, Provider: LegacyGateProvider, Database: ev.Database, BackupID: ev.BackupID, Location: ev.Location,
			Size: ev.Size, Checksum: ev.Checksum, Taken: w.Started, Duration: time.Duration(ev.DurationMS) * time.Millisecond}
		return true, nil
	}
	return false, nil
}

// LegacyGateProvider is the provider of a gate upgraded from a record
// written before gates were typed: those records did not name it.
const LegacyGateProvider = "unrecorded"
