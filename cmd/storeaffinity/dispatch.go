package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/traefik/paerser/cli"
)

// dispatch finds the subcommand named by args[0], prints help when asked, loads the
// subcommand's configuration and runs it. It follows paerser's cli.Execute, but writes
// help to out and returns errors instead of printing them, so that it can be tested.
func dispatch(tree commandTree, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || isHelp(args[:1]) {
		return tree.root.PrintHelp(out)
	}
	var cmd *cli.Command
	var names []string
	for _, sub := range tree.subs {
		names = append(names, sub.Name)
		if sub.Name == args[0] {
			cmd = sub
		}
	}
	if cmd == nil {
		return fmt.Errorf("unknown command %q (want one of %s; see --help)", args[0], strings.Join(names, ", "))
	}
	rest := args[1:]
	if isHelp(rest) {
		return cmd.PrintHelp(out)
	}
	for _, resource := range cmd.Resources {
		done, err := resource.Load(rest, cmd)
		if err != nil {
			return fmt.Errorf("%s: %w", cmd.Name, err)
		}
		if done {
			break
		}
	}
	if err := cmd.Run(rest); err != nil {
		return fmt.Errorf("%s: %w", cmd.Name, err)
	}
	return nil
}

// isHelp reports whether args ask for help, as paerser's commands do.
func isHelp(args []string) bool {
	for _, arg := range args {
		if arg == "--help" || arg == "-help" || arg == "-h" {
			return true
		}
	}
	return false
}
