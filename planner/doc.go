// Package planner builds plans: it expands config through drivers into
// desired state, reads recorded state from the state repository (and,
// for a refresh, observes the providers, as Terraform's refresh does),
// and diffs the two into a plan with its causes, fingerprints and notes.
// It also builds the plans of single operations (a step, a rollback, a
// clone, a preview, a promotion). It never mutates a provider or the
// state repository; package apply executes what it plans.
package planner
