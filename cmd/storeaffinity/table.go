package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"text/tabwriter"
)

// newTable returns a writer that aligns tab-separated columns; call Flush when done.
func newTable(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
}

// stickyValue is the sticky-cookie value that Traefik's weighted service gives a child
// service: the first 16 hex characters of SHA-256 of its name.
func stickyValue(member string) string {
	sum := sha256.Sum256([]byte(member))
	return hex.EncodeToString(sum[:])[:16]
}
