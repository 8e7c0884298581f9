package kubeapi

import (
	"os"
	"path/filepath"
)

// Kubeconfig writes a kubeconfig for the administrator, with namespace as the
// context's default, to dir/kubeconfig and returns its path.
func (s *Server) Kubeconfig(dir, namespace string) (string, error) {
	path := filepath.Join(dir, "kubeconfig")
	text := `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ` + s.Endpoint + `
    certificate-authority: ` + s.CAFile + `
users:
- name: admin
  user:
    token: ` + s.Token + `
contexts:
- name: test
  context:
    cluster: test
    user: admin
    namespace: ` + namespace + `
current-context: test
`
	return path, os.WriteFile(path, []byte(text), 0o600)
}
