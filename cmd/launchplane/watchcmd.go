package main

import (
	"context"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/watch"
)

func newWatchCmd(e *env) *cobra.Command {
	var dir, stateLocFlag string
	var debounce time.Duration
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Re-validate and re-plan on every save of a config file",
		Long: `Watch validates and plans the config directory, then again after every save
of a config file (*.yaml, *.yml, in any subdirectory, new ones included).
It reads the state repository but never calls a provider, so it is safe to
leave running while you edit: a file that does not parse yet shows its
diagnostics, and the next save plans again. Stop it with Ctrl-C.`,
		Args: noArgsConfig,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			w, err := watch.New(dir, watch.Options{Debounce: debounce, OnError: func(err error) {
				fmt.Fprintf(e.stderr, "watch: %v\n", err)
			}})
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			round := func(changed []string) {
				if len(changed) > 0 {
					fmt.Fprintf(e.stdout, "\n--- %s: %s changed\n", time.Now().Format("15:04:05"), strings.Join(changed, ", "))
				}
				watchRound(ctx, e, dir, stateLocFlag)
				fmt.Fprintf(e.stdout, "Watching %s for changes (Ctrl-C to stop).\n", dir)
			}
			round(nil)
			err = w.Run(ctx, func(ctx context.Context, changed []string) { round(changed) })
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			fmt.Fprintln(e.stdout, "Stopped watching.")
			return nil
		},
	}
	configFlag(cmd, &dir)
	stateFlag(cmd, &stateLocFlag)
	cmd.Flags().DurationVar(&debounce, "debounce", watch.DefaultDebounce, "quiet time after a save before planning")
	return cmd
}

// watchRound validates and plans once, printing diagnostics or the plan;
// it never fails the command.
func watchRound(ctx context.Context, e *env, dir, stateLocFlag string) {
	cfg, ok := loadConfig(e, dir)
	if !ok {
		return
	}
	store, snap, err := openStatePlan(ctx, e, stateLocFlag)
	if err != nil {
		fmt.Fprintf(e.stderr, "launchplane: %v\n", err)
		return
	}
	if store != nil {
		defer store.Close()
	}
	// no refresh and no probe: watch never reaches a provider or engine
	p, err := makePlan(ctx, e, cfg, snap, nil, false, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "launchplane: %v\n", err)
		return
	}
	for _, d := range p.Diagnostics {
		fmt.Fprintln(e.stderr, "warning: "+d)
	}
	showPlan(e, p, "human", dir)
}
