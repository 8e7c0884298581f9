package main

import (
	"io"
	"text/tabwriter"
)

// newTable returns a writer that aligns tab-separated columns; call Flush when done.
func newTable(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
}
