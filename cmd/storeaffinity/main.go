// Command storeaffinity answers an operator's questions about store affinity without
// reading code: which member serves a store (route), what moves when the member list
// changes (plan), how a StateLB configuration translates to Traefik (migrate), and which
// members a Kubernetes service has right now (members).
//
// Configuration is read the way Traefik reads its own, with github.com/traefik/paerser:
// a configuration file given by --configFile, else flags, else STOREAFFINITY_*
// environment variables; the first source found wins.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := execute(os.Args[1:], os.Stdout); err != nil {
		_, _ = fmt.Fprintln(os.Stderr, "storeaffinity:", err)
		os.Exit(1)
	}
}

// execute runs the subcommand named by args[0] with the remaining arguments and writes
// its output to out.
func execute(args []string, out io.Writer) error {
	tree := newCommandTree(out)
	return dispatch(tree, args, out)
}
