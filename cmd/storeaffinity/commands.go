package main

import (
	"fmt"
	"io"

	"github.com/traefik/paerser/cli"
)

// commandTree is the root command and its subcommands, in help order.
type commandTree struct {
	root *cli.Command
	subs []*cli.Command
}

// newCommandTree builds the command tree. Every subcommand writes to out.
func newCommandTree(out io.Writer) commandTree {
	tree := commandTree{
		root: &cli.Command{
			Name:        "storeaffinity",
			Description: "Store-affinity operator tool: route, plan, migrate, members, status.",
		},
		subs: []*cli.Command{
			newRouteCommand(out),
			newPlanCommand(out),
			newMigrateCommand(out),
			newMembersCommand(out),
			newStatusCommand(out),
		},
	}
	for _, sub := range tree.subs {
		_ = tree.root.AddCommand(sub)
	}
	return tree
}

// flagsOnly is the run function of a subcommand that takes no arguments after its flags.
func flagsOnly(name string, run func() error) func(args []string) error {
	return func(args []string) error {
		if rest := positionalArgs(args); len(rest) > 0 {
			return fmt.Errorf("unexpected argument %q (%s takes flags only)", rest[0], name)
		}
		return run()
	}
}

// newCommand wires a subcommand's configuration to Traefik's loading order; run gets
// the arguments, from which positionalArgs extracts what follows the flags.
func newCommand(name, description, usage, example string, config any, run func(args []string) error) *cli.Command {
	return &cli.Command{
		Name:           name,
		Description:    description,
		Configuration:  config,
		Resources:      loaders(),
		AllowArg:       true,
		Run:            run,
		CustomHelpFunc: helpFunc(usage, example),
	}
}
