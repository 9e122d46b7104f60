package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const manifests = "../../kubernetes"

var overlays = []string{"overlays/staging", "overlays/production"}

// The manifests as committed are valid.
func TestCommittedOverlaysAreValid(t *testing.T) {
	for _, overlay := range overlays {
		_, count, problems := validate(filepath.Join(manifests, overlay), 1, 33)
		if len(problems) > 0 {
			t.Errorf("%s: %s", overlay, strings.Join(problems, "\n"))
		}
		if count != 11 {
			t.Errorf("%s: %d objects, want 11", overlay, count)
		}
	}
}

// copyWithEdit copies the manifests to a temporary folder, replaces old by new once in one file (which must
// contain it) and returns the production overlay's folder there.
func copyWithEdit(t *testing.T, file, old, new string) string {
	t.Helper()
	root := t.TempDir()
	err := filepath.Walk(manifests, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(manifests, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(root, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == file {
			if !strings.Contains(string(data), old) {
				t.Fatalf("%s does not contain %q", file, old)
			}
			data = []byte(strings.Replace(string(data), old, new, 1))
		}
		return os.WriteFile(filepath.Join(root, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "overlays/production")
}

func TestMistakesAreCaught(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
	}{
		{"misspelled field", "base/command-service.yaml", "readinessProbe:", "readinesProbe:", `unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"field at the wrong level", "base/command-service.yaml", "      terminationGracePeriodSeconds: 40", "      terminationGracePeriodSecond: 40", `unknown field "spec.template.spec.terminationGracePeriodSecond"`},
		{"unknown apiVersion", "base/command-service.yaml", "apiVersion: apps/v1", "apiVersion: app/v1", `no kind "Deployment" is registered for version "app/v1"`},
		{"removed apiVersion", "base/snapshot-service.yaml", "apiVersion: policy/v1", "apiVersion: policy/v1beta1", "policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25"},
		{"wrong type", "base/command-service.yaml", "containerPort: 8080", "containerPort: http8080", "containerPort"},
		{"Service port names no container port", "base/command-service.yaml", "      targetPort: http", "      targetPort: web", "Service/command-service: targetPort web is not a port of Deployment/command-service"},
		{"PDB selects nothing", "base/projection-service.yaml", "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: projection-service\n", "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: projection\n", "PodDisruptionBudget/projection-service: its selector map[app.kubernetes.io/name:projection] matches 0 Deployments"},
		{"probe on an undeclared port", "base/snapshot-service.yaml", "              path: /readyz\n              port: metrics", "              path: /readyz\n              port: 8080", "probe port 8080 is not one of its ports"},
		{"grace period shorter than the shutdown deadline", "base/command-service.yaml", "terminationGracePeriodSeconds: 40", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds 30 must be above preStop 5 s + COLLAB_SHUTDOWN_TIMEOUT_MS 25000 ms"},
		{"runs as root", "base/migrate-job.yaml", "runAsUser: 10001", "runAsUser: 0", "Job/collab-migrate: the pod must set runAsNonRoot: true and a non-zero runAsUser"},
		{"a CronJob's pod runs as root", "base/media-gc-cronjob.yaml", "runAsUser: 10001", "runAsUser: 0", "CronJob/collab-media-gc: the pod must set runAsNonRoot: true and a non-zero runAsUser"},
		{"missing ConfigMap", "base/projection-service.yaml", "name: collab-config", "name: collab-settings", `ConfigMap "collab-settings" is not in the render`},
		{"Ingress to a missing Service", "base/ingress.yaml", "name: command-service", "name: command", `backend Service "command" is not in the render`},
		{"no memory limit", "base/snapshot-service.yaml", "              memory: 1Gi\n", "", "needs cpu and memory requests and a memory limit"},
		{"kustomize error", "overlays/production/kustomization.yaml", "../../base", "../../bases", "kustomize:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyWithEdit(t, tc.file, tc.old, tc.new)
			_, _, problems := validate(dir, 1, 33)
			all := strings.Join(problems, "\n")
			if !strings.Contains(all, tc.want) {
				t.Errorf("want a problem containing %q, got:\n%s", tc.want, all)
			}
		})
	}
}
