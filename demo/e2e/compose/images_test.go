package compose

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/dockerd"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// No image registry is reachable from the test machine, so both images are built
// FROM scratch out of static binaries: the Traefik that the rest of the suite runs,
// and the demo Commerce replica. The Commerce image takes the name that
// docker-compose.yml gives it, so that `docker compose up` uses it as it is.

const commerceImage = "storeaffinity-demo-commerce:latest"

// buildImages builds both images and returns the Traefik image's name.
func buildImages(t *testing.T, engine *dockerd.Engine) string {
	t.Helper()
	traefik, err := stack.TraefikBinary()
	if err != nil {
		t.Fatal(err)
	}
	traefikImage := "storeaffinity-test-traefik:" + stack.TraefikVersion()
	buildScratchImage(t, engine, traefikImage, traefik, "/traefik")

	commerce := filepath.Join(t.TempDir(), "commerce")
	build := exec.Command("go", "build", "-trimpath", "-o", commerce, "./cmd/commerce")
	build.Dir = filepath.Join(stack.RepoRoot(), "demo")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the Commerce replica: %v\n%s", err, out)
	}
	buildScratchImage(t, engine, commerceImage, commerce, "/commerce")
	return traefikImage
}

// buildScratchImage builds image from a static binary, which is its entry point.
func buildScratchImage(t *testing.T, engine *dockerd.Engine, image, binary, entry string) {
	t.Helper()
	if f, err := elf.Open(binary); err != nil {
		t.Fatal(err)
	} else {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Fatalf("%s is linked dynamically and cannot run FROM scratch; remove it and rebuild (make tools)", binary)
			}
		}
		_ = f.Close()
	}
	dir := t.TempDir()
	content, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(entry)), content, 0o755); err != nil {
		t.Fatal(err)
	}
	dockerfile := "FROM scratch\nCOPY " + filepath.Base(entry) + " " + entry + "\nENTRYPOINT [\"" + entry + "\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Docker("build", "-q", "-t", image, dir); err != nil {
		t.Fatal(err)
	}
}
