package sandbox

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// FillerNamespace holds the extra pods `--pods N` adds for benchmarks.
const FillerNamespace = "bench"

// Clientset returns an admin clientset for one cluster of the fleet.
func (f *Fleet) Clientset(cluster string) (*kubernetes.Clientset, error) {
	return f.ClientsetAs(cluster, "")
}

// ClientsetAs returns a clientset for the cluster's context with a suffix,
// e.g. "-viewer" for the restricted user.
func (f *Fleet) ClientsetAs(cluster, suffix string) (*kubernetes.Clientset, error) {
	cfg, err := f.RESTConfig(cluster + suffix)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// RESTConfig returns the client config of a context of the fleet's kubeconfig.
func (f *Fleet) RESTConfig(context string) (*rest.Config, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: f.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("context %s: %w", context, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

// addFillerPods creates a Deployment with n replicas in FillerNamespace on
// every cluster: thousands of real pods for benchmarks.
func addFillerPods(ctx context.Context, f *Fleet, n int) error {
	for _, c := range f.Clusters {
		cs, err := f.Clientset(c)
		if err != nil {
			return err
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: FillerNamespace}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("cluster %s: create namespace %s: %w", c, FillerNamespace, err)
		}
		labels := map[string]string{"app.kubernetes.io/name": "bench-filler"}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "bench-filler", Namespace: FillerNamespace, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(int32(n)),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "filler", Image: "registry.fleetdeck.test/bench/filler:v1",
					}}},
				},
			},
		}
		if _, err := cs.AppsV1().Deployments(FillerNamespace).Create(ctx, d, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("cluster %s: create filler deployment: %w", c, err)
		}
	}
	return nil
}
