// Command releasecheck checks one publishable plugin tree before it is tagged: the
// version is strict semver, the tree's module zip is one the Go module proxy serves,
// and, unpacked as Traefik's plugin manager unpacks it, it passes the catalog's rules
// and builds on its own, without the workspace.
//
// Usage:
//
//	releasecheck -version v1.2.3 -module github.com/storeaffinity/storeaffinity DIR
//	git tag -l | releasecheck -tags     (every existing tag must be strict semver too)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/storeaffinity/storeaffinity/demo/tools/catalog"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	version := flag.String("version", "", "the tag, such as v1.2.3")
	modulePath := flag.String("module", "", "the module path the tree must declare")
	tags := flag.Bool("tags", false, "check the tags on standard input, one a line, instead")
	flag.Parse()
	if *tags {
		if err := checkTags(); err != nil {
			fmt.Fprintln(os.Stderr, "releasecheck:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() != 1 || *version == "" || *modulePath == "" {
		fmt.Fprintln(os.Stderr, "usage: releasecheck -version vX.Y.Z -module PATH DIR")
		os.Exit(2)
	}
	if err := check(flag.Arg(0), *modulePath, *version); err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
}

func check(dir, modulePath, version string) error {
	if err := catalog.CheckVersion(version); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "releasecheck-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()
	m := module.Version{Path: modulePath, Version: version}
	zipPath := filepath.Join(work, "module.zip")
	out, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	err = zip.CreateFromDir(out, m, dir)
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	info, err := os.Stat(zipPath)
	if err != nil {
		return err
	}
	unpacked := filepath.Join(work, "src", filepath.FromSlash(modulePath))
	if err := zip.Unzip(unpacked, m, zipPath); err != nil {
		return err
	}
	manifest, err := catalog.CheckTree(unpacked, modulePath)
	if err != nil {
		return err
	}
	vet := exec.Command("go", "vet", "./...")
	vet.Dir = unpacked
	vet.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
	vet.Stdout, vet.Stderr = os.Stderr, os.Stderr
	if err := vet.Run(); err != nil {
		return fmt.Errorf("go vet of the unpacked tree, outside the workspace: %w", err)
	}
	fmt.Printf("ok  %s@%s  %s plugin, module zip %d bytes\n", modulePath, version, manifest.Type, info.Size())
	return nil
}

// checkTags checks every tag read from standard input: the catalog reads the latest
// tag, and a tag that is not strict semver breaks its ordering.
func checkTags() error {
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		if tag := scanner.Text(); tag != "" {
			if err := catalog.CheckVersion(tag); err != nil {
				return fmt.Errorf("tag: %w", err)
			}
		}
	}
	return scanner.Err()
}
