package main

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/launchplane/launchplane/config"
	"github.com/launchplane/launchplane/schema"
)

// registerCompletions adds shell completion of products, lanes and target
// keys, read from the config directory the command line names (--config,
// default ./launchplane), and of directories for --config.
func registerCompletions(root *cobra.Command) {
	walk(root, func(c *cobra.Command) {
		if c.Flags().Lookup("config") != nil {
			_ = c.RegisterFlagCompletionFunc("config", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveFilterDirs
			})
		}
		if c.Flags().Lookup("target") != nil {
			_ = c.RegisterFlagCompletionFunc("target", completeTargetKeys)
		}
		if c.Flags().Lookup("product") != nil {
			_ = c.RegisterFlagCompletionFunc("product", completeProductFlag)
		}
		switch c.CommandPath() {
		case "launchplane rollback", "launchplane backup", "launchplane release", "launchplane history", "launchplane unlock":
			c.ValidArgsFunction = completeProductLane
		case "launchplane promote", "launchplane clone":
			c.ValidArgsFunction = completeProductOnly
		case "launchplane preview plan", "launchplane preview apply", "launchplane preview destroy":
			c.ValidArgsFunction = completeProductOnly
		case "launchplane schema":
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				var out []string
				for _, k := range schema.Kinds {
					out = append(out, strings.ToLower(k))
				}
				return out, cobra.ShellCompDirectiveNoFileComp
			}
		}
	})
}

// completionConfig loads the config directory of the command line being
// completed; nil when it cannot be read (completion then offers nothing).
func completionConfig(cmd *cobra.Command) *config.Config {
	dir := "launchplane"
	if f := cmd.Flags().Lookup("config"); f != nil {
		dir = f.Value.String()
	}
	cfg, _ := schema.Load(dir)
	return cfg
}

func completeTargetKeys(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	cfg := completionConfig(cmd)
	if cfg == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, t := range cfg.Targets {
		out = append(out, t.Key())
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeProductFlag(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	return products(completionConfig(cmd)), cobra.ShellCompDirectiveNoFileComp
}

func completeProductOnly(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return products(completionConfig(cmd)), cobra.ShellCompDirectiveNoFileComp
}

// completeProductLane completes PRODUCT then LANE (the lanes the product
// has targets on).
func completeProductLane(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	cfg := completionConfig(cmd)
	if cfg == nil || len(args) > 1 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if len(args) == 0 {
		return products(cfg), cobra.ShellCompDirectiveNoFileComp
	}
	var lanes []string
	for _, t := range cfg.Targets {
		if t.Spec.Product == args[0] {
			lanes = append(lanes, t.Spec.Lane)
		}
	}
	sort.Strings(lanes)
	return lanes, cobra.ShellCompDirectiveNoFileComp
}

func products(cfg *config.Config) []string {
	if cfg == nil {
		return nil
	}
	var out []string
	for _, p := range cfg.Products {
		out = append(out, p.Name)
	}
	return out
}
