package drivers

import (
	"context"
	"time"

	"github.com/launchplane/launchplane/plan"
	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/state"
)

// Runtime is what apply lends a driver's hooks while it applies one
// target. It is used by one goroutine at a time.
type Runtime interface {
	// Target is the target key.
	Target() string
	// Record is the id of the record this apply writes for the target.
	Record() string
	Now() time.Time
	// Recorded is the target's state before this apply; nil for a new
	// target.
	Recorded() *state.TargetState
	// Provider opens a provider of the config by name.
	Provider(name string) (any, error)
	// Resolve reads a secret reference and registers its value with the
	// run's redactor before returning it.
	Resolve(ref providers.SecretRef) (string, error)
	// Change is this apply's change of address, nil when it has none.
	Change(address string) *plan.Change
	// Gate is the target's backup gate as it stands in this apply.
	Gate() *state.Gate
	// SetGate makes g the target's gate; when rec is non-nil it is
	// written as a record of its own (a backup-gate record).
	SetGate(g *state.Gate, rec *state.Record)
	// Step runs fn as a sub-step of the apply (a restore, a job),
	// reporting its progress and recording its outcome and evidence under
	// address. It returns fn's error, redacted.
	Step(ctx context.Context, address, action, reason string, fn func(context.Context) (state.Evidence, error)) error
	// Fact and SetFact read and write what the driver remembers of the
	// target between applies (kept in the target's state).
	Fact(key string) string
	SetFact(key, value string)
	// Note marks that something happened in this apply (a module update
	// started); Noted tells. Hooks use it to pass facts to later hooks.
	Note(key string)
	Noted(key string) bool
}

// StepFunc runs a step a driver added to the plan. It returns evidence
// for the record and the outcome (state.OutcomeDone, OutcomeAlreadyDone,
// OutcomeSkipped).
type StepFunc func(ctx context.Context, rt Runtime, c plan.Change) (state.Evidence, state.ChangeOutcome, error)

// Verdict is a driver's answer to "may apply roll the image back now?".
type Verdict struct {
	// Proceed lets apply redeploy the previous healthy image.
	Proceed bool
	// Status is the target status to record when not proceeding
	// (state.StatusNeedsOperator).
	Status state.Status
	// Reason explains, for the record and the operator.
	Reason string
	// Evidence is added to the record of the rollback.
	Evidence state.Evidence
}
