// kube-validate renders kustomize overlays and checks every object the way the API server would decode it,
// plus the cross-references a schema cannot see. It fails (exit 1) on:
//   - an unknown or duplicated field (strict decoding with client-go's scheme: a misspelled field is an error);
//   - an apiVersion/kind the scheme does not know, or one removed in the target Kubernetes (-kube-version);
//   - a Service, PodDisruptionBudget or Ingress pointing at nothing (selectors, ports, backend services);
//   - a ConfigMap referenced by a pod that the render does not contain;
//   - a long-running container without requests and limits, readiness and liveness probes, or running as root;
//   - a terminationGracePeriodSeconds not above the preStop sleep plus COLLAB_SHUTDOWN_TIMEOUT_MS.
//
// Usage: kube-validate [-kube-version 1.33] [-print] KUSTOMIZATION_DIR...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

type object struct {
	id  string // Kind/name in the render
	obj runtime.Object
}

type checker struct {
	dir      string
	problems []string
}

func (c *checker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("%s: %s", c.dir, fmt.Sprintf(format, args...)))
}

// removedIn is implemented by the beta and alpha types of k8s.io/api (zz_generated.prerelease-lifecycle.go).
type removedIn interface{ APILifecycleRemoved() (int, int) }

func render(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

func (c *checker) decode(rendered []byte, kubeMajor, kubeMinor int) []object {
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var objects []object
	for _, doc := range bytes.Split(rendered, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			head := strings.SplitN(string(doc), "\n", 3)
			c.fail("%v (in the object starting %q)", err, strings.Join(head[:min(2, len(head))], " "))
			// An unknown field still decodes the rest: keep checking the object rather than report its absence.
			if !runtime.IsStrictDecodingError(err) || obj == nil {
				continue
			}
		}
		if r, ok := obj.(removedIn); ok {
			major, minor := r.APILifecycleRemoved()
			if major < kubeMajor || (major == kubeMajor && minor <= kubeMinor) {
				c.fail("%s %s was removed in Kubernetes %d.%d", gvk.GroupVersion(), gvk.Kind, major, minor)
			}
		}
		name := ""
		if m, ok := obj.(interface{ GetName() string }); ok {
			name = m.GetName()
		}
		objects = append(objects, object{id: gvk.Kind + "/" + name, obj: obj})
	}
	return objects
}

type podOwner struct {
	id        string
	labels    map[string]string
	spec      corev1.PodSpec
	longLived bool // a Deployment (probes, graceful stop) rather than a Job
}

func (c *checker) crossCheck(objects []object) {
	configMaps := map[string]map[string]string{}
	var pods []podOwner
	services := map[string]*corev1.Service{}
	for _, o := range objects {
		switch v := o.obj.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = v.Data
		case *appsv1.Deployment:
			pods = append(pods, podOwner{o.id, v.Spec.Template.Labels, v.Spec.Template.Spec, true})
			if v.Spec.Selector == nil || !selects(v.Spec.Selector.MatchLabels, v.Spec.Template.Labels) {
				c.fail("%s: its selector does not match its pod template's labels", o.id)
			}
		case *batchv1.Job:
			pods = append(pods, podOwner{o.id, v.Spec.Template.Labels, v.Spec.Template.Spec, false})
		case *batchv1.CronJob:
			// Its Jobs' pods, held to the same rules as a Job's (non-root, envFrom what exists, limits).
			tmpl := v.Spec.JobTemplate.Spec.Template
			pods = append(pods, podOwner{o.id, tmpl.Labels, tmpl.Spec, false})
		case *corev1.Service:
			services[v.Name] = v
		}
	}
	for _, p := range pods {
		c.checkPod(p, configMaps)
	}
	for _, o := range objects {
		switch v := o.obj.(type) {
		case *corev1.Service:
			target := c.selected(o.id, v.Spec.Selector, pods)
			for _, port := range v.Spec.Ports {
				if target != nil && !hasPort(target.spec, port.TargetPort) {
					c.fail("%s: targetPort %s is not a port of %s", o.id, port.TargetPort.String(), target.id)
				}
			}
		case *policyv1.PodDisruptionBudget:
			if v.Spec.Selector == nil {
				c.fail("%s: no selector", o.id)
			} else {
				c.selected(o.id, v.Spec.Selector.MatchLabels, pods)
			}
		case *networkingv1.Ingress:
			for _, rule := range v.Spec.Rules {
				if rule.HTTP == nil {
					continue
				}
				for _, path := range rule.HTTP.Paths {
					b := path.Backend.Service
					if b == nil {
						continue
					}
					svc, ok := services[b.Name]
					if !ok {
						c.fail("%s: backend Service %q is not in the render", o.id, b.Name)
						continue
					}
					if !serviceHasPort(svc, b.Port) {
						c.fail("%s: Service %q has no port %q/%d", o.id, b.Name, b.Port.Name, b.Port.Number)
					}
				}
			}
		}
	}
}

func selects(selector, podLabels map[string]string) bool {
	return len(selector) > 0 && labels.SelectorFromSet(selector).Matches(labels.Set(podLabels))
}

// selected fails unless the selector picks the pods of exactly one long-lived workload, and returns it.
func (c *checker) selected(id string, selector map[string]string, pods []podOwner) *podOwner {
	var found []*podOwner
	for i := range pods {
		if pods[i].longLived && selects(selector, pods[i].labels) {
			found = append(found, &pods[i])
		}
	}
	if len(found) != 1 {
		c.fail("%s: its selector %v matches %d Deployments (want 1)", id, selector, len(found))
		return nil
	}
	return found[0]
}

func hasPort(spec corev1.PodSpec, port intstr.IntOrString) bool {
	for _, ctr := range spec.Containers {
		for _, p := range ctr.Ports {
			if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
				return true
			}
		}
	}
	return false
}

func serviceHasPort(svc *corev1.Service, port networkingv1.ServiceBackendPort) bool {
	for _, p := range svc.Spec.Ports {
		if (port.Name != "" && p.Name == port.Name) || (port.Name == "" && p.Port == port.Number) {
			return true
		}
	}
	return false
}

func (c *checker) checkPod(p podOwner, configMaps map[string]map[string]string) {
	sc := p.spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		c.fail("%s: the pod must set runAsNonRoot: true and a non-zero runAsUser", p.id)
	}
	env := map[string]string{}
	for _, ctr := range p.spec.Containers {
		where := p.id + " container " + ctr.Name
		for _, from := range ctr.EnvFrom {
			if ref := from.ConfigMapRef; ref != nil {
				data, ok := configMaps[ref.Name]
				if !ok && (ref.Optional == nil || !*ref.Optional) {
					c.fail("%s: ConfigMap %q is not in the render", where, ref.Name)
				}
				for k, v := range data {
					env[k] = v
				}
			}
		}
		for _, e := range ctr.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				if _, ok := configMaps[e.ValueFrom.ConfigMapKeyRef.Name]; !ok {
					c.fail("%s: ConfigMap %q is not in the render", where, e.ValueFrom.ConfigMapKeyRef.Name)
				}
			}
			env[e.Name] = e.Value
		}
		if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
			c.fail("%s: needs cpu and memory requests and a memory limit", where)
		}
		if !p.longLived {
			continue
		}
		if ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil {
			c.fail("%s: needs a readinessProbe and a livenessProbe", where)
		}
		for _, probe := range []*corev1.Probe{ctr.ReadinessProbe, ctr.LivenessProbe, ctr.StartupProbe} {
			if probe != nil && probe.HTTPGet != nil && !hasPort(corev1.PodSpec{Containers: []corev1.Container{ctr}}, probe.HTTPGet.Port) {
				c.fail("%s: probe port %s is not one of its ports", where, probe.HTTPGet.Port.String())
			}
		}
		// Kubernetes SIGKILLs a pod once the grace period (which includes preStop) is over: it must outlast the
		// preStop sleep plus the process's own shutdown deadline, or a slow close is cut short without a log line.
		deadlineMs := 25000 // COLLAB_SHUTDOWN_TIMEOUT_MS's default (@collab/env-config)
		if v, ok := env["COLLAB_SHUTDOWN_TIMEOUT_MS"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				c.fail("%s: COLLAB_SHUTDOWN_TIMEOUT_MS=%q is not a number", where, v)
			}
			deadlineMs = n
		}
		preStop := int64(0)
		if ctr.Lifecycle != nil && ctr.Lifecycle.PreStop != nil && ctr.Lifecycle.PreStop.Sleep != nil {
			preStop = ctr.Lifecycle.PreStop.Sleep.Seconds
		}
		grace := int64(30)
		if p.spec.TerminationGracePeriodSeconds != nil {
			grace = *p.spec.TerminationGracePeriodSeconds
		}
		if need := preStop*1000 + int64(deadlineMs); grace*1000 <= need {
			c.fail("%s: terminationGracePeriodSeconds %d must be above preStop %d s + COLLAB_SHUTDOWN_TIMEOUT_MS %d ms", where, grace, preStop, deadlineMs)
		}
	}
}

// validate renders one kustomization and returns the rendered YAML, the number of objects and every problem.
func validate(dir string, kubeMajor, kubeMinor int) ([]byte, int, []string) {
	c := &checker{dir: dir}
	rendered, err := render(dir)
	if err != nil {
		c.fail("kustomize: %v", err)
		return nil, 0, c.problems
	}
	objects := c.decode(rendered, kubeMajor, kubeMinor)
	c.crossCheck(objects)
	return rendered, len(objects), c.problems
}

func main() {
	kubeVersion := flag.String("kube-version", "1.33", "the oldest Kubernetes the manifests must run on (major.minor)")
	print := flag.Bool("print", false, "print the rendered manifests")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: kube-validate [-kube-version 1.33] [-print] KUSTOMIZATION_DIR...")
		os.Exit(2)
	}
	var major, minor int
	if _, err := fmt.Sscanf(*kubeVersion, "%d.%d", &major, &minor); err != nil {
		fmt.Fprintf(os.Stderr, "-kube-version %q: want major.minor\n", *kubeVersion)
		os.Exit(2)
	}
	failed := false
	for _, dir := range flag.Args() {
		rendered, count, problems := validate(dir, major, minor)
		if *print {
			os.Stdout.Write(rendered)
		}
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "ERROR "+p)
			failed = true
		}
		if len(problems) == 0 {
			fmt.Fprintf(os.Stderr, "%s: %d objects valid for Kubernetes %s\n", dir, count, *kubeVersion)
		}
	}
	if failed {
		os.Exit(1)
	}
}
