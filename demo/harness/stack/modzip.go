package stack

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// BuildModuleZip writes the module zip of m at version to zipPath, as the Go module
// proxy serves it. With a revision (such as HEAD) it holds the files committed at that
// revision; without one, the files of the working tree that git tracks or would track
// (every file when the tree is not a git checkout). Nested modules are left out, as
// the Go command leaves them out.
func BuildModuleZip(zipPath string, m PluginModule, version, revision string) error {
	out, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	root := RepoRoot()
	dir := filepath.Join(root, m.Dir)
	mv := module.Version{Path: m.Path, Version: version}
	subdir := filepath.ToSlash(filepath.Clean(m.Dir))
	if subdir == "." {
		subdir = ""
	}
	switch {
	case revision != "":
		err = zip.CreateFromVCS(out, mv, root, revision, subdir)
	case isGitCheckout(root):
		var files []zip.File
		if files, err = workingTreeFiles(root, dir); err == nil {
			err = zip.Create(out, mv, files)
		}
	default:
		err = zip.CreateFromDir(out, mv, dir)
	}
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("module zip of %s: %w", m.Path, err)
	}
	return nil
}

// UnpackModuleZip unpacks a module zip into gopath/src/<modulePath>, as Traefik's
// plugin manager does (golang.org/x/mod/zip.Unzip), replacing what was there.
func UnpackModuleZip(gopath, modulePath, version, zipPath string) error {
	dest := PluginDir(gopath, modulePath)
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	if err := zip.Unzip(dest, module.Version{Path: modulePath, Version: version}, zipPath); err != nil {
		return fmt.Errorf("unpack %s: %w", modulePath, err)
	}
	return nil
}

func isGitCheckout(root string) bool {
	_, err := os.Stat(filepath.Join(root, ".git"))
	return err == nil
}

// workingTreeFiles lists the regular files below dir that git tracks or would track
// (not ignored), with paths relative to dir.
func workingTreeFiles(root, dir string) ([]zip.File, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", dir)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	listing, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var files []zip.File
	for _, name := range strings.Split(string(listing), "\x00") {
		if name == "" {
			continue
		}
		path := filepath.Join(root, filepath.FromSlash(name))
		info, err := os.Lstat(path)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working tree, or a link
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return nil, err
		}
		files = append(files, diskFile{path: path, slashPath: filepath.ToSlash(rel), info: info})
	}
	return files, nil
}

// diskFile is a zip.File read from the working tree.
type diskFile struct {
	path      string
	slashPath string
	info      fs.FileInfo
}

func (f diskFile) Path() string                 { return f.slashPath }
func (f diskFile) Lstat() (fs.FileInfo, error)  { return f.info, nil }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.path) }
